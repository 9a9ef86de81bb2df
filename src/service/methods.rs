//! The methods a target answers, as a set, and the value of `Allow` that
//! lists them (RFC 9110 §10.2.1). The router derives each target's set from
//! its route table, so `OPTIONS`, a 405 and a CORS preflight name the same
//! methods, and a new route shows up in all three by being registered.

use crate::proto::Method;

/// A set of known methods ([`Method::Other`] is never a member).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MethodSet {
    bits: u16,
}

impl MethodSet {
    /// The set holding `methods`.
    pub fn of(methods: &[Method]) -> MethodSet {
        methods
            .iter()
            .fold(MethodSet::default(), |set, &method| set.with(method))
    }

    /// This set and `method`. `Other` names no method and is not added.
    pub fn with(self, method: Method) -> MethodSet {
        match method.name() {
            Some(_) => MethodSet {
                bits: self.bits | bit(method),
            },
            None => self,
        }
    }

    pub fn union(self, other: MethodSet) -> MethodSet {
        MethodSet {
            bits: self.bits | other.bits,
        }
    }

    pub fn contains(self, method: Method) -> bool {
        self.bits & bit(method) != 0
    }

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// The value of `Allow`: the names, sorted, joined by ", ".
    pub fn allow_value(self) -> String {
        let mut names: Vec<&str> = ALL
            .iter()
            .filter(|&&method| self.contains(method))
            .filter_map(|method| method.name())
            .collect();
        names.sort_unstable();
        names.join(", ")
    }
}

/// Every method a set can hold.
const ALL: [Method; 9] = Method::KNOWN;

fn bit(method: Method) -> u16 {
    match ALL.iter().position(|&m| m == method) {
        Some(index) => 1 << index,
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_members_sorted() {
        // (methods, Allow)
        let cases: &[(&[Method], &str)] = &[
            (&[], ""),
            (&[Method::Post, Method::Options], "OPTIONS, POST"),
            (
                &[Method::Options, Method::Head, Method::Get],
                "GET, HEAD, OPTIONS",
            ),
            (&[Method::Get, Method::Get, Method::Other], "GET"),
            (
                &ALL,
                "CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, TRACE",
            ),
        ];
        for &(methods, allow) in cases {
            assert_eq!(MethodSet::of(methods).allow_value(), allow, "{methods:?}");
        }
    }

    #[test]
    fn membership_and_union() {
        let reads = MethodSet::of(&[Method::Get, Method::Head]);
        let writes = MethodSet::of(&[Method::Post]);
        let both = reads.union(writes);
        for method in ALL {
            assert_eq!(
                both.contains(method),
                reads.contains(method) || writes.contains(method),
                "{method:?}"
            );
        }
        assert!(!both.contains(Method::Other));
        assert!(MethodSet::default().is_empty());
        assert!(!reads.is_empty());
    }
}
