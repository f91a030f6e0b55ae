//! The federation's certificate authority: one ed25519 key that signs credentials. It is random,
//! made when a data dir is first used and kept there (0600), or given with `--ca-key FILE`; only a
//! `--virtual-time` simulation derives it from the seed, so that its run is reproducible.

use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::api::identity::{Bytes32, Bytes64, Credential};

pub struct Ca {
    key: SigningKey,
    pub public: Bytes32,
}

impl Ca {
    /// Reproducible from the seed: for `--virtual-time` simulations only.
    pub fn from_seed(seed: u64) -> Self {
        let secret: [u8; 32] = Sha256::new()
            .chain_update(b"plexus-federation-ca\0")
            .chain_update(seed.to_be_bytes())
            .finalize()
            .into();
        Ca::from_secret(secret)
    }

    pub fn from_secret(secret: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&secret);
        let public = Bytes32(key.verifying_key().to_bytes());
        Ca { key, public }
    }

    /// A new random CA (the OS's randomness).
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
        Ca::from_secret(secret)
    }

    /// The secret, to keep in the data dir.
    pub fn secret(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The engine's X25519 share for an agreement with `neuron_kx` on credential `serial`:
    /// derived from the CA secret, so a repeated request (an answer lost) agrees the same key,
    /// and nobody without the CA secret can compute it.
    pub fn kx_secret(&self, neuron_kx: &Bytes32, serial: u64) -> x25519_dalek::StaticSecret {
        let bytes: [u8; 32] = Sha256::new()
            .chain_update(b"plexus-kx-v1\0")
            .chain_update(self.key.to_bytes())
            .chain_update(neuron_kx.0)
            .chain_update(serial.to_be_bytes())
            .finalize()
            .into();
        x25519_dalek::StaticSecret::from(bytes)
    }

    /// A secret only the engine knows, for the session keys of in-process simulated neurons
    /// (their key never leaves the process; agents agree theirs).
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
