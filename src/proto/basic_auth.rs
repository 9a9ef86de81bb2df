//! The `Basic` authentication scheme (RFC 7617) on the wire: reading the
//! credentials of an `Authorization` value, and writing the challenge of a
//! `WWW-Authenticate` value.
//!
//! What a credential is worth (the password file, the hash check, which
//! paths need one) is the service's business; this file only says what the
//! client sent. The rules, in order:
//!
//! 1. `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`
//!    (RFC 9110 §11.4); the scheme is `Basic`, compared without regard to
//!    case (§11.1), followed by one or more spaces and a token68 (§11.2).
//! 2. The token68 is base64 (RFC 4648 §4, the standard alphabet); padding
//!    may be present or omitted, nothing else is forgiven.
//! 3. The decoded bytes are UTF-8: we announce `charset="UTF-8"` (RFC 7617
//!    §2.1), so any other encoding is a malformed credential.
//! 4. The user-id ends at the first colon, so a password may hold colons
//!    and a user-id cannot (§2). Neither may hold a control character.
//!
//! Bounded: the value is at most a head's size, and the decoded bytes are
//! three quarters of it.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

/// The user-id and password a request carries, decoded. Owned: the
/// decoded bytes exist nowhere in the head.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// `user-id:password`, decoded and checked to be UTF-8.
    decoded: String,
    /// Where the first colon is in `decoded`.
    colon: usize,
}

impl BasicCredentials {
    /// The user-id: everything before the first colon.
    pub fn user_id(&self) -> &str {
        &self.decoded[..self.colon]
    }

    /// The password: everything after the first colon (colons included).
    pub fn password(&self) -> &str {
        &self.decoded[self.colon + 1..]
    }
}

/// Never the password, not even in a debug print.
impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user_id", &self.user_id())
            .finish_non_exhaustive()
    }
}

/// Why an `Authorization` value is not usable `Basic` credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasicAuthError {
    /// Another scheme (`Bearer`, `Digest`), or no scheme at all: not ours to
    /// read (RFC 9110 §11.6.2 lets a server ignore what it does not support).
    NotBasic,
    /// `Basic` without a space and a token68 after it.
    MissingToken,
    /// Bytes after the scheme that are not one token68 (RFC 9110 §11.2),
    /// or auth-params, which `Basic` does not take.
    BadToken,
    /// A token68 that is not base64.
    BadBase64,
    /// Decoded bytes that are not UTF-8 (RFC 7617 §2.1, `charset="UTF-8"`).
    NotUtf8,
    /// No colon between user-id and password (RFC 7617 §2).
    NoColon,
    /// A control character in the user-id or password (RFC 7617 §2: they
    /// MUST NOT contain any).
    ControlCharacter,
}

/// Standard alphabet, padding optional: some clients drop it, and it
/// carries no information.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Read the `Basic` credentials of one `Authorization` field value (as the
/// head parser gives it, outer whitespace already gone).
pub fn parse_basic_credentials(value: &[u8]) -> Result<BasicCredentials, BasicAuthError> {
    decode_basic_token(basic_token(value)?)
}

/// The token68 of a `Basic` `Authorization` value, checked for syntax but
/// not decoded (rules 1 and 2's alphabet): what a cache of credentials
/// already seen can be keyed by without decoding them.
pub fn basic_token(value: &[u8]) -> Result<&[u8], BasicAuthError> {
    let scheme_end = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    if !value[..scheme_end].eq_ignore_ascii_case(b"Basic") {
        return Err(BasicAuthError::NotBasic);
    }
    // 1*SP: the parser has trimmed trailing whitespace, so what is left
    // after the spaces is the token68, if anything.
    let token = trim_leading_spaces(&value[scheme_end..]);
    if token.is_empty() {
        return Err(BasicAuthError::MissingToken);
    }
    if !is_token68(token) {
        return Err(BasicAuthError::BadToken);
    }
    Ok(token)
}

/// The credentials a token68 from [`basic_token`] carries (rules 2 to 4).
pub fn decode_basic_token(token: &[u8]) -> Result<BasicCredentials, BasicAuthError> {
    let decoded = BASE64
        .decode(token)
        .map_err(|_| BasicAuthError::BadBase64)?;
    let decoded = String::from_utf8(decoded).map_err(|_| BasicAuthError::NotUtf8)?;
    if decoded.chars().any(char::is_control) {
        // `char::is_control` is Unicode's Cc: the C0 controls, DEL and the
        // C1 controls. RFC 5234's CTL is C0 and DEL; C1 controls have no
        // business in a name or password either.
        return Err(BasicAuthError::ControlCharacter);
    }
    let colon = decoded.find(':').ok_or(BasicAuthError::NoColon)?;
    Ok(BasicCredentials { decoded, colon })
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
/// (RFC 9110 §11.2).
fn is_token68(token: &[u8]) -> bool {
    let body_end = token.iter().position(|&b| b == b'=').unwrap_or(token.len());
    let (body, padding) = token.split_at(body_end);
    !body.is_empty()
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        && padding.iter().all(|&b| b == b'=')
}

fn trim_leading_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

/// Why a realm cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RealmError {
    /// A control character: a quoted-string carries none but tab, even
    /// escaped (RFC 9110 §5.6.4), and a realm has no use for a tab.
    ControlCharacter,
    /// A byte outside ASCII: a quoted-string carries it only as obs-text,
    /// which recipients need not read as the operator meant.
    NotAscii,
}

/// The `WWW-Authenticate` value that asks for `Basic` credentials in
/// `realm`: `Basic realm="...", charset="UTF-8"` (RFC 7617 §2, §2.1), the
/// realm as a quoted-string, with `"` and `\` escaped (RFC 9110 §5.6.4).
pub fn basic_challenge(realm: &str) -> Result<String, RealmError> {
    let mut challenge = String::with_capacity(realm.len() + 40);
    challenge.push_str("Basic realm=\"");
    for c in realm.chars() {
        match c {
            '"' | '\\' => {
                challenge.push('\\');
                challenge.push(c);
            }
            ' '..='~' => challenge.push(c),
            _ if c.is_control() => return Err(RealmError::ControlCharacter),
            _ => return Err(RealmError::NotAscii),
        }
    }
    challenge.push_str("\", charset=\"UTF-8\"");
    Ok(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD as ENCODE;
    use proptest::prelude::*;

    /// User-id and password, or why not.
    type Parsed = Result<(String, String), BasicAuthError>;

    fn parsed(value: &[u8]) -> Parsed {
        parse_basic_credentials(value).map(|c| (c.user_id().to_owned(), c.password().to_owned()))
    }

    fn ok(user: &str, password: &str) -> Parsed {
        Ok((user.to_owned(), password.to_owned()))
    }

    #[test]
    fn credentials_by_bytes() {
        use BasicAuthError::*;
        let cases: &[(&[u8], Parsed)] = &[
            // RFC 7617 §2's example: Aladdin / open sesame.
            (
                b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                ok("Aladdin", "open sesame"),
            ),
            // The scheme is case-insensitive (RFC 9110 §11.1).
            (
                b"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                ok("Aladdin", "open sesame"),
            ),
            (
                b"BASIC QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                ok("Aladdin", "open sesame"),
            ),
            // 1*SP: several spaces are allowed.
            (
                b"Basic   QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
                ok("Aladdin", "open sesame"),
            ),
            // Padding may be left out.
            (
                b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ",
                ok("Aladdin", "open sesame"),
            ),
            // The first colon splits: a password may hold colons.
            (b"Basic dXNlcjpwYTpzczp3b3Jk", ok("user", "pa:ss:word")),
            // Empty user-id and empty password are credentials (wrong ones).
            (b"Basic Og==", ok("", "")),
            (b"Basic dXNlcjo=", ok("user", "")),
            // RFC 7617 §2.1's example: test / 123£ in UTF-8.
            (b"Basic dGVzdDoxMjPCow==", ok("test", "123\u{a3}")),
            // Not Basic: ignored, as another scheme would be.
            (b"Bearer abc.def", Err(NotBasic)),
            (b"Basicx QWxh", Err(NotBasic)),
            (b"", Err(NotBasic)),
            (b"Basic", Err(MissingToken)),
            (b"Basic ", Err(MissingToken)),
            // A tab is not SP (RFC 9110 §11.4 says 1*SP).
            (b"Basic\tQWxh", Err(NotBasic)),
            // Two tokens, an auth-param, characters outside token68.
            (b"Basic QWxh ZGRp", Err(BadToken)),
            (b"Basic realm=\"x\"", Err(BadToken)),
            (b"Basic QW=xh", Err(BadToken)),
            (b"Basic ====", Err(BadToken)),
            (b"Basic QWxh\"", Err(BadToken)),
            // token68 characters that base64 does not use.
            (b"Basic QWxh-ZGRp", Err(BadBase64)),
            (b"Basic QWxh_ZGRp", Err(BadBase64)),
            // Too much padding, a length no base64 has, non-canonical bits.
            (b"Basic QWxhZA===", Err(BadBase64)),
            (b"Basic QWxhZ", Err(BadBase64)),
            (b"Basic QR==", Err(BadBase64)),
            // Latin-1 "£" (0xa3) alone: not UTF-8.
            (b"Basic dGVzdDoxMjOj", Err(NotUtf8)),
            // "Aladdin" alone: no colon.
            (b"Basic QWxhZGRpbg==", Err(NoColon)),
            // "a\nb:c" and "a:b\x7f": control characters.
            (b"Basic YQpiOmM=", Err(ControlCharacter)),
            (b"Basic YTpifw==", Err(ControlCharacter)),
            // U+0085 (a C1 control) in the password.
            (b"Basic YTrChQ==", Err(ControlCharacter)),
        ];
        for (value, expected) in cases {
            assert_eq!(
                &parsed(value),
                expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn the_token_is_the_bytes_after_the_scheme() {
        assert_eq!(basic_token(b"Basic QWxh"), Ok(&b"QWxh"[..]));
        assert_eq!(basic_token(b"basic   QWxh=="), Ok(&b"QWxh=="[..]));
        // Syntax only: not base64, yet a token68.
        assert_eq!(basic_token(b"Basic QWxh-._~"), Ok(&b"QWxh-._~"[..]));
        assert_eq!(basic_token(b"Basic"), Err(BasicAuthError::MissingToken));
        assert_eq!(basic_token(b"Digest x"), Err(BasicAuthError::NotBasic));
        assert_eq!(
            decode_basic_token(b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==").map(|c| c.password().to_owned()),
            Ok("open sesame".to_owned())
        );
    }

    #[test]
    fn the_password_never_shows_in_a_debug_print() {
        let credentials = parse_basic_credentials(b"Basic dXNlcjpodW50ZXIy").expect("valid");
        assert_eq!(credentials.password(), "hunter2");
        let printed = format!("{credentials:?}");
        assert!(printed.contains("user"), "{printed}");
        assert!(!printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn challenges_quote_and_escape_the_realm() {
        let cases: &[(&str, Result<&str, RealmError>)] = &[
            (
                "httpserver",
                Ok(r#"Basic realm="httpserver", charset="UTF-8""#),
            ),
            ("", Ok(r#"Basic realm="", charset="UTF-8""#)),
            (
                r#"say "hi" \ bye"#,
                Ok(r#"Basic realm="say \"hi\" \\ bye", charset="UTF-8""#),
            ),
            ("a\tb", Err(RealmError::ControlCharacter)),
            ("a\r\nb", Err(RealmError::ControlCharacter)),
            ("caf\u{e9}", Err(RealmError::NotAscii)),
        ];
        for (realm, expected) in cases {
            assert_eq!(
                basic_challenge(realm).as_deref().map_err(|e| *e),
                *expected,
                "{realm:?}"
            );
        }
    }

    /// Undo [`basic_challenge`]'s quoting, as a recipient would.
    fn unquote_realm(challenge: &str) -> String {
        let inner = challenge
            .strip_prefix("Basic realm=\"")
            .and_then(|rest| rest.strip_suffix("\", charset=\"UTF-8\""))
            .expect("the challenge's frame");
        let mut realm = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => realm.push(chars.next().expect("an escaped character")),
                '"' => panic!("an unescaped quote in {challenge:?}"),
                _ => realm.push(c),
            }
        }
        realm
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Untrusted bytes: any value gives credentials or an error, and
        /// credentials are always one that encodes back to what was read.
        #[test]
        fn any_value_gives_credentials_or_an_error(
            value in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            for candidate in [value.clone(), [b"Basic ".as_slice(), &value].concat()] {
                if let Ok(credentials) = parse_basic_credentials(&candidate) {
                    let again = ENCODE.encode(format!(
                        "{}:{}",
                        credentials.user_id(),
                        credentials.password()
                    ));
                    let token = &candidate[candidate.iter().rposition(|&b| b == b' ').expect("a space") + 1..];
                    prop_assert_eq!(
                        again.trim_end_matches('='),
                        std::str::from_utf8(token).expect("token68 is ASCII").trim_end_matches('=')
                    );
                    prop_assert!(!credentials.user_id().contains(':'));
                }
            }
        }

        /// Whatever user-id (without a colon) and password a client
        /// encodes, they are read back exactly.
        #[test]
        fn encoded_credentials_read_back(
            user in "[^:\\p{Cc}]{0,20}",
            password in "[^\\p{Cc}]{0,40}",
            scheme in prop_oneof![Just("Basic"), Just("basic"), Just("bAsIc")],
            spaces in 1usize..4,
            padded in any::<bool>(),
        ) {
            let mut token = ENCODE.encode(format!("{user}:{password}"));
            if !padded {
                token.truncate(token.trim_end_matches('=').len());
            }
            let value = format!("{scheme}{}{token}", " ".repeat(spaces));
            let credentials = parse_basic_credentials(value.as_bytes()).expect("valid");
            prop_assert_eq!(credentials.user_id(), user.as_str());
            prop_assert_eq!(credentials.password(), password.as_str());
        }

        /// Any ASCII realm without controls survives the quoting.
        #[test]
        fn realms_round_trip(realm in "[ -~]{0,40}") {
            let challenge = basic_challenge(&realm).expect("printable ASCII");
            prop_assert_eq!(unquote_realm(&challenge), realm);
        }
    }
}
