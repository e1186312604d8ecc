//! The HMAC signatures of [`super::jwt`], on ring, the crypto library TLS
//! uses (`https.rs`): jsonwebtoken's own providers would link a second one
//! into every function (aws-lc, or RustCrypto's RSA and curves). Tokens are
//! HS256 only (the validation pins it); HS384 and HS512 are here so that a
//! token signed with them is refused by that rule, not by a missing
//! algorithm.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{Error, Signer, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey};
use ring::hmac;

/// Makes ring's HMAC jsonwebtoken's provider for this process.
pub fn install() {
    // Err once a provider is installed: this one, or another that came
    // first and then signs.
    let _ = PROVIDER.install_default();
}

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: |algorithm, key| {
        if key.family() != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Box::new(Hmac::new(*algorithm, key.as_bytes())?))
    },
    verifier_factory: |algorithm, key: &DecodingKey| {
        if key.family() != AlgorithmFamily::Hmac {
            return Err(ErrorKind::InvalidKeyFormat.into());
        }
        Ok(Box::new(Hmac::new(*algorithm, key.try_get_as_bytes()?)?))
    },
    // No JWKs: the keys are shared secrets (super::keys).
    key_utils: KeyUtils::new_unimplemented(),
};

/// One HMAC key, for one algorithm.
struct Hmac(Algorithm, hmac::Key);

impl Hmac {
    fn new(algorithm: Algorithm, secret: &[u8]) -> Result<Hmac> {
        let ring = match algorithm {
            Algorithm::HS256 => hmac::HMAC_SHA256,
            Algorithm::HS384 => hmac::HMAC_SHA384,
            Algorithm::HS512 => hmac::HMAC_SHA512,
            _ => return Err(ErrorKind::InvalidAlgorithm.into()),
        };
        Ok(Hmac(algorithm, hmac::Key::new(ring, secret)))
    }
}

impl Signer<Vec<u8>> for Hmac {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, Error> {
        Ok(hmac::sign(&self.1, message).as_ref().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hmac {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> std::result::Result<(), Error> {
        // ring compares in constant time.
        hmac::verify(&self.1, message, signature).map_err(|_| Error::new())
    }
}

impl JwtSigner for Hmac {
    fn algorithm(&self) -> Algorithm {
        self.0
    }
}

impl JwtVerifier for Hmac {
    fn algorithm(&self) -> Algorithm {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::EncodingKey;

    /// RFC 4231's test case 2 ("Jefe"), as jsonwebtoken signs a message.
    #[test]
    fn signs_as_rfc_4231_says() {
        install();
        let key = EncodingKey::from_secret(b"Jefe");
        let signature =
            jsonwebtoken::crypto::sign(b"what do ya want for nothing?", &key, Algorithm::HS256)
                .unwrap();
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let decoded =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, signature)
                .unwrap();
        assert_eq!(hex::encode(decoded), expected);
    }

    #[test]
    fn refuses_an_algorithm_of_another_family() {
        install();
        let key = EncodingKey::from_secret(b"secret");
        assert!(jsonwebtoken::crypto::sign(b"message", &key, Algorithm::RS256).is_err());
    }
}
