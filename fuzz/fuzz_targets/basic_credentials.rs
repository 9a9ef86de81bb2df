//! `proto::basic_auth::parse_basic_credentials` and `basic_challenge`.
//!
//! Input: one selector byte, then an `Authorization` value (selector even)
//! or a realm (selector odd). Invariants, beyond "returns a value":
//! - the same value gives the same answer again;
//! - credentials come only from `Basic` (any case), spaces and one token68,
//!   and encoding `user-id:password` again gives that token (padding aside);
//! - the user-id has no colon; neither part has a control character;
//! - a challenge is accepted exactly for printable-ASCII realms, holds no
//!   control character, and unquotes to the realm.
#![no_main]

use base64::Engine;
use httpserver::proto::basic_auth::{basic_challenge, parse_basic_credentials};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [selector, input @ ..] = data else {
        return;
    };
    if selector % 2 == 0 {
        check_credentials(input);
    } else if let Ok(realm) = std::str::from_utf8(input) {
        check_challenge(realm);
    }
});

fn check_credentials(value: &[u8]) {
    let parsed = parse_basic_credentials(value);
    assert_eq!(parse_basic_credentials(value), parsed, "not deterministic");
    let Ok(credentials) = parsed else {
        return;
    };
    let (user, password) = (credentials.user_id(), credentials.password());
    assert!(!user.contains(':'), "a colon in the user-id {user:?}");
    assert!(!user.chars().chain(password.chars()).any(char::is_control));
    assert!(value[..5].eq_ignore_ascii_case(b"Basic"));
    let rest = &value[5..];
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    assert!(spaces >= 1, "no space after the scheme");
    let token = std::str::from_utf8(&rest[spaces..]).expect("token68 is ASCII");
    let again = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    assert_eq!(again.trim_end_matches('='), token.trim_end_matches('='));
}

fn check_challenge(realm: &str) {
    let printable = realm.bytes().all(|b| (b' '..=b'~').contains(&b));
    let Ok(challenge) = basic_challenge(realm) else {
        assert!(!printable, "refused a printable realm {realm:?}");
        return;
    };
    assert!(printable, "accepted {realm:?}");
    assert!(!challenge.chars().any(char::is_control));
    let inner = challenge
        .strip_prefix("Basic realm=\"")
        .and_then(|rest| rest.strip_suffix("\", charset=\"UTF-8\""))
        .expect("the challenge's frame");
    let mut unquoted = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => unquoted.push(chars.next().expect("an escaped character")),
            '"' => panic!("an unescaped quote in {challenge:?}"),
            _ => unquoted.push(c),
        }
    }
    assert_eq!(unquoted, realm);
}
