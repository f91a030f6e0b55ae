//! The federation's certificate authority: one ed25519 key that signs credentials. It is derived
//! from the engine's seed, so a simulated run (and the credentials in it) is reproducible.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::api::identity::{Bytes32, Bytes64, Credential};

pub struct Ca {
    key: SigningKey,
    pub public: Bytes32,
}

impl Ca {
    pub fn from_seed(seed: u64) -> Self {
        let secret: [u8; 32] = Sha256::new()
            .chain_update(b"plexus-federation-ca\0")
            .chain_update(seed.to_be_bytes())
            .finalize()
            .into();
        let key = SigningKey::from_bytes(&secret);
        let public = Bytes32(key.verifying_key().to_bytes());
        Ca { key, public }
    }

    /// A secret only the engine knows, for deriving session keys.
    pub fn derive(&self, label: &[u8], serial: u64) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"plexus-session\0")
            .chain_update(self.key.to_bytes())
            .chain_update(label)
            .chain_update(serial.to_be_bytes())
            .finalize()
            .into()
    }

    pub fn issue(
        &self,
        id: String,
        public_key: Bytes32,
        serial: u64,
        not_before: i64,
        not_after: i64,
    ) -> Credential {
        let mut c = Credential {
            id,
            public_key,
            serial,
            not_before,
            not_after,
            issuer: self.public,
            signature: Bytes64([0; 64]),
        };
        c.signature = Bytes64(self.key.sign(&c.signed_bytes()).to_bytes());
        c
    }

    /// Issued by this CA and untouched since.
    pub fn vouches_for(&self, c: &Credential) -> Result<(), String> {
        if c.issuer != self.public {
            return Err(format!(
                "credential #{} for {} is signed by an unknown CA ({:?})",
                c.serial, c.id, c.issuer
            ));
        }
        let ours = VerifyingKey::from_bytes(&self.public.0).map_err(|e| e.to_string())?;
        let sig = ed25519_dalek::Signature::from_bytes(&c.signature.0);
        ours.verify(&c.signed_bytes(), &sig).map_err(|_| {
            format!(
                "credential #{} for {}: the CA signature does not verify",
                c.serial, c.id
            )
        })
    }
}

/// Verify `signature` over `bytes` with a raw public key.
pub fn verify(public: &Bytes32, bytes: &[u8], signature: &Bytes64) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(&public.0) else {
        return false;
    };
    key.verify_strict(bytes, &ed25519_dalek::Signature::from_bytes(&signature.0))
        .is_ok()
}
