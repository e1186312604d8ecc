//! jsonwebtoken's crypto for the comparison, on ring, as the API's own
//! (common/src/auth/hmac.rs, HMAC only) is: HS256, ES256 and EdDSA.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use ring::hmac;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, UnparsedPublicKey,
};

pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: |algorithm, key| Ok(Box::new(Sign::new(*algorithm, key)?)),
    verifier_factory: |algorithm, key| Ok(Box::new(Verify::new(*algorithm, key)?)),
    key_utils: KeyUtils::new_unimplemented(),
};

enum Sign {
    Hs256(hmac::Key),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl Sign {
    fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Sign> {
        let invalid = |_| ErrorKind::InvalidKeyFormat;
        let der = key.as_bytes();
        Ok(match algorithm {
            Algorithm::HS256 => Sign::Hs256(hmac::Key::new(hmac::HMAC_SHA256, der)),
            Algorithm::ES256 => Sign::Es256(
                EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(invalid)?,
            ),
            Algorithm::EdDSA => Sign::EdDsa(Ed25519KeyPair::from_pkcs8(der).map_err(invalid)?),
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        })
    }
}

impl Signer<Vec<u8>> for Sign {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, Error> {
        Ok(match self {
            Sign::Hs256(key) => hmac::sign(key, message).as_ref().to_vec(),
            Sign::Es256(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map_err(|_| Error::new())?
                .as_ref()
                .to_vec(),
            Sign::EdDsa(pair) => pair.sign(message).as_ref().to_vec(),
        })
    }
}

impl JwtSigner for Sign {
    fn algorithm(&self) -> Algorithm {
        match self {
            Sign::Hs256(_) => Algorithm::HS256,
            Sign::Es256(_) => Algorithm::ES256,
            Sign::EdDsa(_) => Algorithm::EdDSA,
        }
    }
}

/// A public key (or, for HS256, the secret), checked against at each call.
struct Verify(Algorithm, Vec<u8>);

impl Verify {
    fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Verify> {
        Ok(Verify(algorithm, key.try_get_as_bytes()?.to_vec()))
    }
}

impl Verifier<Vec<u8>> for Verify {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        let checked = match self.0 {
            Algorithm::HS256 => hmac::verify(
                &hmac::Key::new(hmac::HMAC_SHA256, &self.1),
                message,
                signature,
            ),
            Algorithm::ES256 => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.1).verify(message, signature)
            }
            _ => UnparsedPublicKey::new(&ED25519, &self.1).verify(message, signature),
        };
        checked.map_err(|_| Error::new())
    }
}

impl JwtVerifier for Verify {
    fn algorithm(&self) -> Algorithm {
        self.0
    }
}
