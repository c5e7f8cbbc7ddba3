//! Signing keys: ES256 (P-256) and RS256 (RSA 2048), stored sealed under the master
//! key, published as a JWKS. `kid` is the RFC 7638 thumbprint.
//!
//! A key is published from creation, signs from `activates_at` until `retires_at`,
//! and stays published after that for as long as the tokens it signed live. Which key
//! signs is a pure function of the instant, so every instance that loaded the same
//! rows signs with the same key; [`super::rotation`] decides when to add one.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair,
    UnparsedPublicKey,
};
use serde_json::{Value, json};

use super::jwt;
use crate::config::SigningAlg;
use crate::crypto::{Sealer, b64url, sha256};
use crate::engine::Timestamp;
use crate::store::{Store, StoreError, StoredKey};

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

pub struct SigningKey {
    pub kid: String,
    pub alg: SigningAlg,
    pub activates_at: Timestamp,
    pub retires_at: Option<Timestamp>,
    pair: Pair,
    jwk: Value,
}

impl SigningKey {
    /// Whether this key signs at `now`.
    fn signs_at(&self, now: Timestamp) -> bool {
        self.activates_at <= now && self.retires_at.is_none_or(|r| now < r)
    }

    /// Whether tokens it signed may still be alive at `now` (or it will sign later).
    fn published_at(&self, now: Timestamp, token_lifetime: Duration) -> bool {
        self.retires_at.is_none_or(|r| now < r.plus(token_lifetime))
    }

    fn verify(&self, input: &[u8], sig: &[u8]) -> bool {
        match &self.pair {
            Pair::Ec(p) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, p.public_key().as_ref()).verify(input, sig).is_ok()
            }
            Pair::Rsa(p) => UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, p.public_key().as_ref())
                .verify(input, sig)
                .is_ok(),
        }
    }
}

/// The keys loaded from the store.
pub struct KeySet {
    keys: Vec<SigningKey>,
    /// How long a retired key stays published (the longest token lifetime).
    keep_published: Duration,
    rng: SystemRandom,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {0} cannot be opened: {1}")]
    Unseal(String, crate::crypto::SealError),
    #[error("signing key {0} is not a valid {1} key")]
    Invalid(String, &'static str),
}

/// A verified JWT: its header and claims. Expiry, issuer and audience are the
/// caller's to check.
#[derive(Debug, Clone)]
pub struct Verified {
    pub header: Value,
    pub claims: Value,
}

impl KeySet {
    /// Opens every stored key.
    pub async fn load(store: &dyn Store, sealer: &Sealer, keep_published: Duration) -> Result<KeySet, KeyError> {
        KeySet::open(&store.signing_keys().await?, sealer, keep_published)
    }

    /// Opens the keys as stored.
    pub fn open(stored: &[StoredKey], sealer: &Sealer, keep_published: Duration) -> Result<KeySet, KeyError> {
        let keys = stored.iter().map(|k| open(k, sealer)).collect::<Result<Vec<_>, _>>()?;
        Ok(KeySet { keys, keep_published, rng: SystemRandom::new() })
    }

    /// The key that signs `alg` tokens at `now`: the most recently activated live one,
    /// else (a retirement not yet followed by a successor, seen by this instance) the
    /// most recently activated one.
    pub fn signer(&self, alg: SigningAlg, now: Timestamp) -> Option<&SigningKey> {
        let of_alg = || self.keys.iter().filter(move |k| k.alg == alg && k.activates_at <= now);
        of_alg()
            .filter(|k| k.signs_at(now))
            .max_by_key(|k| k.activates_at)
            .or_else(|| of_alg().max_by_key(|k| k.activates_at))
    }

    /// The JWKS document (`/oauth2/v1/keys`) at `now`.
    pub fn jwks(&self, now: Timestamp) -> Vec<u8> {
        let keys: Vec<&Value> =
            self.keys.iter().filter(|k| k.published_at(now, self.keep_published)).map(|k| &k.jwk).collect();
        serde_json::to_vec(&json!({ "keys": keys })).expect("JSON")
    }

    /// Signs `claims` as a JWT with the `alg` key active at `now`.
    ///
    /// # Panics
    /// When there is no key for `alg`: [`super::rotation::ensure`] creates one for every
    /// algorithm a client uses before the server starts.
    pub fn sign(&self, alg: SigningAlg, now: Timestamp, typ: &str, claims: &impl serde::Serialize) -> String {
        let key = self.signer(alg, now).unwrap_or_else(|| panic!("no {} signing key", alg.name()));
        let header = json!({ "alg": alg.name(), "kid": key.kid, "typ": typ });
        jwt::encode(&header, claims, |input| match &key.pair {
            Pair::Ec(p) => p.sign(&self.rng, input).expect("ECDSA signing").as_ref().to_vec(),
            Pair::Rsa(p) => {
                let mut sig = vec![0; p.public_modulus_len()];
                p.sign(&signature::RSA_PKCS1_SHA256, &self.rng, input, &mut sig).expect("RSA signing");
                sig
            }
        })
    }

    /// Verifies a JWT signed by one of these keys, still published at `now`. The
    /// header's `alg` must be the key's own: `none`, HMAC, or an algorithm swap fail.
    pub fn verify(&self, token: &str, now: Timestamp) -> Option<Verified> {
        let parts = jwt::split(token)?;
        let kid = parts.header.get("kid")?.as_str()?;
        let key = self.keys.iter().find(|k| k.kid == kid && k.published_at(now, self.keep_published))?;
        if parts.header.get("alg")?.as_str()? != key.alg.name() {
            return None;
        }
        key.verify(parts.signing_input.as_bytes(), &parts.signature)
            .then_some(Verified { header: parts.header, claims: parts.claims })
    }

    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }
}

/// The key set in use, replaced whole when the stored keys change.
pub struct LiveKeys {
    current: RwLock<Arc<KeySet>>,
}

impl LiveKeys {
    pub fn new(set: KeySet) -> LiveKeys {
        LiveKeys { current: RwLock::new(Arc::new(set)) }
    }

    pub fn get(&self) -> Arc<KeySet> {
        self.current.read().expect("key set lock").clone()
    }

    pub fn replace(&self, set: KeySet) {
        *self.current.write().expect("key set lock") = Arc::new(set);
    }
}

/// A new key of `alg`, sealed, signing from `activates_at`.
pub fn generate(alg: SigningAlg, sealer: &Sealer, now: Timestamp, activates_at: Timestamp) -> StoredKey {
    let pkcs8 = match alg {
        SigningAlg::Es256 => EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("P-256 key generation")
            .as_ref()
            .to_vec(),
        SigningAlg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .expect("RSA key generation")
            .as_der()
            .expect("RSA key encodes")
            .as_ref()
            .to_vec(),
    };
    let pair = parse(alg, &pkcs8).expect("a fresh key parses");
    let (kid, jwk) = public_jwk(alg, &pair);
    StoredKey {
        sealed_private: sealer.seal(&pkcs8, kid.as_bytes()),
        kid,
        alg: alg.name().into(),
        created_at: now,
        public_jwk: jwk.to_string(),
        activates_at,
        retires_at: None,
    }
}

fn parse(alg: SigningAlg, pkcs8: &[u8]) -> Option<Pair> {
    match alg {
        SigningAlg::Es256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8).ok().map(Pair::Ec),
        SigningAlg::Rs256 => RsaKeyPair::from_pkcs8(pkcs8).ok().map(Pair::Rsa),
    }
}

fn open(stored: &StoredKey, sealer: &Sealer) -> Result<SigningKey, KeyError> {
    let alg = SigningAlg::parse(&stored.alg).ok_or(KeyError::Invalid(stored.kid.clone(), "known"))?;
    let pkcs8 = sealer
        .open(&stored.sealed_private, stored.kid.as_bytes())
        .map_err(|e| KeyError::Unseal(stored.kid.clone(), e))?;
    let pair = parse(alg, &pkcs8).ok_or_else(|| KeyError::Invalid(stored.kid.clone(), alg.name()))?;
    let (kid, jwk) = public_jwk(alg, &pair);
    if kid != stored.kid {
        return Err(KeyError::Invalid(stored.kid.clone(), alg.name()));
    }
    Ok(SigningKey { kid, alg, activates_at: stored.activates_at, retires_at: stored.retires_at, pair, jwk })
}

/// (kid, JWK); kid is the RFC 7638 thumbprint: the required members in lexicographic
/// order, no whitespace.
fn public_jwk(alg: SigningAlg, pair: &Pair) -> (String, Value) {
    let (thumbprint, mut jwk) = match pair {
        Pair::Ec(p) => {
            let point = p.public_key().as_ref();
            debug_assert_eq!(point.len(), 65, "uncompressed P-256 point");
            let (x, y) = (b64url(&point[1..33]), b64url(&point[33..65]));
            (
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#),
                json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
            )
        }
        Pair::Rsa(p) => {
            let parts = PublicKeyComponents::<Vec<u8>>::from(p.public_key());
            let (n, e) = (b64url(&parts.n), b64url(&parts.e));
            (format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#), json!({ "kty": "RSA", "n": n, "e": e }))
        }
    };
    let kid = b64url(&sha256(thumbprint.as_bytes()).0);
    let extra = json!({ "kid": kid, "use": "sig", "alg": alg.name() });
    jwk.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
    (kid, jwk)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn set(stored: &[StoredKey], sealer: &Sealer) -> KeySet {
        KeySet {
            keys: stored.iter().map(|k| open(k, sealer).unwrap()).collect(),
            keep_published: HOUR,
            rng: SystemRandom::new(),
        }
    }

    #[test]
    fn signs_and_verifies_with_either_algorithm() {
        let sealer = Sealer::from_master(&[5; 32]);
        let keys = set(
            &[
                generate(SigningAlg::Es256, &sealer, Timestamp(0), Timestamp(0)),
                generate(SigningAlg::Rs256, &sealer, Timestamp(0), Timestamp(0)),
            ],
            &sealer,
        );
        let now = Timestamp(10);
        for alg in [SigningAlg::Es256, SigningAlg::Rs256] {
            let token = keys.sign(alg, now, "JWT", &json!({ "sub": "u1" }));
            let verified = keys.verify(&token, now).unwrap();
            assert_eq!(
                (verified.claims["sub"].as_str(), verified.header["alg"].as_str()),
                (Some("u1"), Some(alg.name()))
            );
            let mut tampered = token.clone();
            tampered.insert(tampered.rfind('.').unwrap() - 2, 'A');
            assert!(keys.verify(&tampered, now).is_none(), "{alg:?} tampered claims");
        }
        let jwks: Value = serde_json::from_slice(&keys.jwks(now)).unwrap();
        let kinds: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kty"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["EC", "RSA"]);
        for k in jwks["keys"].as_array().unwrap() {
            assert!(k.get("d").is_none() && k.get("p").is_none(), "no private member is published");
        }
    }

    #[test]
    fn refuses_none_and_algorithm_swaps() {
        let sealer = Sealer::from_master(&[5; 32]);
        let keys = set(&[generate(SigningAlg::Es256, &sealer, Timestamp(0), Timestamp(0))], &sealer);
        let token = keys.sign(SigningAlg::Es256, Timestamp(1), "JWT", &json!({ "sub": "u1" }));
        let kid = keys.keys[0].kid.clone();
        let (_, rest) = token.split_once('.').unwrap();
        let (claims, _) = rest.split_once('.').unwrap();
        for header in [
            json!({ "alg": "none", "kid": kid }),
            json!({ "alg": "RS256", "kid": kid }),
            json!({ "alg": "ES256", "kid": "other" }),
        ] {
            let forged =
                format!("{}.{claims}.{}", b64url(header.to_string().as_bytes()), token.rsplit('.').next().unwrap());
            assert!(keys.verify(&forged, Timestamp(1)).is_none(), "{header}");
            assert!(
                keys.verify(&format!("{}.{claims}.", b64url(header.to_string().as_bytes())), Timestamp(1)).is_none()
            );
        }
    }

    #[test]
    fn successor_signs_from_its_activation_and_the_old_key_stays_published_while_its_tokens_live() {
        let sealer = Sealer::from_master(&[5; 32]);
        let mut old = generate(SigningAlg::Es256, &sealer, Timestamp(0), Timestamp(0));
        let switch = Timestamp::from_unix_seconds(100);
        old.retires_at = Some(switch);
        let new = generate(SigningAlg::Es256, &sealer, Timestamp(0), switch);
        let keys = set(&[old.clone(), new.clone()], &sealer);
        let before = Timestamp::from_unix_seconds(99);
        assert_eq!(keys.signer(SigningAlg::Es256, before).unwrap().kid, old.kid);
        assert_eq!(keys.signer(SigningAlg::Es256, switch).unwrap().kid, new.kid);
        let published = |at: Timestamp| -> Vec<String> {
            let jwks: Value = serde_json::from_slice(&keys.jwks(at)).unwrap();
            jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(published(before), [old.kid.clone(), new.kid.clone()], "the successor is published ahead");
        let signed_before = keys.sign(SigningAlg::Es256, before, "JWT", &json!({}));
        let late = switch.plus(HOUR - Duration::from_secs(1));
        assert!(keys.verify(&signed_before, late).is_some(), "old tokens verify until they expire");
        assert_eq!(published(switch.plus(HOUR)), [new.kid], "then the old key is withdrawn");
        assert!(keys.verify(&signed_before, switch.plus(HOUR)).is_none());
    }

    #[test]
    fn wrong_master_key_is_reported() {
        let sealer = Sealer::from_master(&[5; 32]);
        let stored = generate(SigningAlg::Es256, &sealer, Timestamp(0), Timestamp(0));
        assert!(matches!(open(&stored, &Sealer::from_master(&[6; 32])), Err(KeyError::Unseal(..))));
    }
}
