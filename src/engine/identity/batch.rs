//! Enrolment proofs checked many at a time. ed25519 batch verification shares one multiscalar
//! multiplication across the batch (about half the cost per signature, see README's figures);
//! a batch that fails is split in two and each half tried again, so one forged proof costs its
//! senders a few extra checks and never lets a good request be refused or a bad one through.

use ed25519_dalek::{Signature, VerifyingKey};

/// One signature to check: the key it claims, the exact bytes signed, the signature.
pub struct Signed<'a> {
    pub key: &'a [u8; 32],
    pub bytes: &'a [u8],
    pub signature: &'a [u8; 64],
}

/// Below this many, batching saves too little to be worth its setup.
const SMALLEST_BATCH: usize = 4;

/// Whether each signature verifies. A weak (small-order) key never does: batch verification is
/// not strict about it, so it is refused before. What passes proves possession of a key that
/// is not weak, which is all a proof is for.
pub fn verify_all(items: &[Signed<'_>]) -> Vec<bool> {
    let parsed: Vec<Option<(VerifyingKey, Signature)>> = items
        .iter()
        .map(|s| {
            let key = VerifyingKey::from_bytes(s.key).ok()?;
            (!key.is_weak()).then(|| (key, Signature::from_bytes(s.signature)))
        })
        .collect();
    let mut verdicts = vec![false; items.len()];
    let candidates: Vec<usize> = (0..items.len()).filter(|&i| parsed[i].is_some()).collect();
    settle(items, &parsed, &candidates, &mut verdicts);
    verdicts
}

fn settle(
    items: &[Signed<'_>],
    parsed: &[Option<(VerifyingKey, Signature)>],
    which: &[usize],
    verdicts: &mut [bool],
) {
    if which.len() < SMALLEST_BATCH {
        for &i in which {
            let (key, signature) = parsed[i].as_ref().expect("only parsed ones are candidates");
            verdicts[i] = key.verify_strict(items[i].bytes, signature).is_ok();
        }
        return;
    }
    let messages: Vec<&[u8]> = which.iter().map(|&i| items[i].bytes).collect();
    let (keys, signatures): (Vec<VerifyingKey>, Vec<Signature>) = which
        .iter()
        .map(|&i| parsed[i].expect("only parsed ones are candidates"))
        .unzip();
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        which.iter().for_each(|&i| verdicts[i] = true);
        return;
    }
    let (left, right) = which.split_at(which.len() / 2);
    settle(items, parsed, left, verdicts);
    settle(items, parsed, right, verdicts);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    struct Owned {
        key: [u8; 32],
        bytes: Vec<u8>,
        signature: [u8; 64],
    }

    fn signed(n: u8) -> Owned {
        let key = SigningKey::from_bytes(&[n; 32]);
        let bytes = vec![n; 40];
        Owned {
            key: key.verifying_key().to_bytes(),
            signature: key.sign(&bytes).to_bytes(),
            bytes,
        }
    }

    fn check(all: &[Owned]) -> Vec<bool> {
        let items: Vec<Signed<'_>> = all
            .iter()
            .map(|o| Signed {
                key: &o.key,
                bytes: &o.bytes,
                signature: &o.signature,
            })
            .collect();
        verify_all(&items)
    }

    #[test]
    fn a_batch_of_good_proofs_all_verify() {
        let all: Vec<Owned> = (1..=40).map(signed).collect();
        assert!(check(&all).into_iter().all(|ok| ok));
        assert!(check(&[]).is_empty());
    }

    #[test]
    fn exactly_the_forged_ones_are_refused() {
        let mut all: Vec<Owned> = (1..=37).map(signed).collect();
        all[3].signature[10] ^= 1;
        all[20].bytes[0] ^= 1;
        all[36].key = signed(99).key;
        // A small-order key with the identity as signature: batch arithmetic alone might not
        // catch it; it is refused as weak.
        all[30].key = [0; 32];
        all[30].key[0] = 1;
        let verdicts = check(&all);
        let refused: Vec<usize> = (0..all.len()).filter(|&i| !verdicts[i]).collect();
        assert_eq!(refused, vec![3, 20, 30, 36]);
    }
}
