//! The recovery policy: which enrolled authenticators may prove who someone is when
//! they have lost a password, and how many of them it takes. "Require a stronger factor
//! to reset a password" is `authenticators = ["email", "passkey"]`, `factors = 2`: the
//! emailed link alone resets nothing.

use crate::authenticators::AuthenticatorKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryPolicy {
    /// Authenticators that count for recovery, in the order they are asked for.
    pub authenticators: Vec<AuthenticatorKind>,
    /// Distinct authenticators to prove before a reset.
    pub factors: usize,
    /// Whether what the policy asks is enough in an app that requires phishing
    /// resistance even when no phishing-resistant authenticator was among it (off: a
    /// passkey is asked too, and an account without one cannot recover there).
    pub email_alone_for_phishing_resistant_apps: bool,
}

impl Default for RecoveryPolicy {
    fn default() -> Self {
        RecoveryPolicy {
            authenticators: vec![AuthenticatorKind::Email],
            factors: 1,
            email_alone_for_phishing_resistant_apps: false,
        }
    }
}

/// What recovery needs next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryNext {
    /// Enough was proven: the person may choose a new password.
    Reset,
    /// Prove one of these (the account has them, the policy allows them, not yet proven).
    Prove(Vec<AuthenticatorKind>),
    /// The account cannot reach the required number with what it has.
    Impossible,
}

impl RecoveryPolicy {
    /// Given what was proven and what the account has enrolled.
    pub fn next(&self, proven: &[AuthenticatorKind], enrolled: &[AuthenticatorKind]) -> RecoveryNext {
        let counts = |k: &AuthenticatorKind| self.authenticators.contains(k);
        let done = self.authenticators.iter().filter(|k| proven.contains(k)).count();
        if done >= self.factors {
            return RecoveryNext::Reset;
        }
        let left: Vec<AuthenticatorKind> =
            self.authenticators.iter().copied().filter(|k| enrolled.contains(k) && !proven.contains(k)).collect();
        debug_assert!(left.iter().all(counts));
        if done + left.len() < self.factors { RecoveryNext::Impossible } else { RecoveryNext::Prove(left) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AuthenticatorKind::{Email, Passkey, Password};

    #[test]
    fn what_recovery_needs_next() {
        let one = RecoveryPolicy::default();
        let stronger = RecoveryPolicy { authenticators: vec![Email, Passkey], factors: 2, ..RecoveryPolicy::default() };
        let no_email = RecoveryPolicy { authenticators: vec![Passkey], factors: 1, ..RecoveryPolicy::default() };
        let cases: &[(&RecoveryPolicy, &[AuthenticatorKind], &[AuthenticatorKind], RecoveryNext)] = &[
            (&one, &[], &[Email, Password], RecoveryNext::Prove(vec![Email])),
            (&one, &[Email], &[Email, Password], RecoveryNext::Reset),
            // A password proven is not a recovery factor.
            (&one, &[Password], &[Email, Password], RecoveryNext::Prove(vec![Email])),
            (&stronger, &[], &[Email, Passkey, Password], RecoveryNext::Prove(vec![Email, Passkey])),
            (&stronger, &[Email], &[Email, Passkey, Password], RecoveryNext::Prove(vec![Passkey])),
            (&stronger, &[Email, Passkey], &[Email, Passkey], RecoveryNext::Reset),
            (&stronger, &[Email], &[Email, Password], RecoveryNext::Impossible),
            (&no_email, &[], &[Email, Password], RecoveryNext::Impossible),
            (&no_email, &[], &[Email, Passkey], RecoveryNext::Prove(vec![Passkey])),
        ];
        for (policy, proven, enrolled, expected) in cases {
            assert_eq!(&policy.next(proven, enrolled), expected, "{policy:?} proven {proven:?} enrolled {enrolled:?}");
        }
    }
}
