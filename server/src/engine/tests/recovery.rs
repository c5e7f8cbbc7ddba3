//! Recovery: whose account, the proofs the recovery policy asks for, then a new
//! password (or passkey) that ends every other session.

use expect_test::expect;
use passway_protocol::Intent;

use super::{Journey, NO_ENROLLMENT, app, registered};
use crate::authenticators::AuthenticatorKind;
use crate::engine::{Enrollment, Enrollments};
use crate::policy::{Access, Assurance, Conditions, RecoveryPolicy, Rule, SignOnPolicy};

const ADA: &[(&str, &str)] = &[("identifier", "ada@example.com")];

#[test]
fn forgot_password_by_email_then_a_new_password() {
    let mut j = Journey::with_passwords(Intent::Login, Enrollment::Optional);
    j.password("u-ada", "correct horse battery staple");
    j.submit("identify", ADA)
        .submit("select-identify-recovery", &[])
        .submit("identify-recovery", ADA)
        .type_mailed_code()
        .submit("reset-authenticator", &[("password", "password1234")])
        .submit("reset-authenticator", &[("password", "a brand new passphrase")]);
    j.check(expect![[r#"
        > identify identifier=ada@example.com
          step password_challenge offers [challenge-authenticator, select-authenticator-authenticate, select-identify-recovery]
        > select-identify-recovery 
          step identify_recovery offers [identify-recovery, select-identify]
        > identify-recovery identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect log user.account.recovery.start Success
          effect send_email to=ada@example.com purpose=Recover
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step reset_password offers [reset-authenticator]
          effect answer_accepted email
          effect log user.authentication.verify Success
        > reset-authenticator password=password1234
          step reset_password offers [reset-authenticator]
          error password.error.common @password
        > reset-authenticator password=a brand new passphrase
          step completed offers []
          info recovery.done
          effect set_password user=u-ada argon2id=true
          effect log user.mfa.factor.activate Success
          effect revoke_sessions user=u-ada
          effect log user.account.reset_password Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=u-ada proofs=["email", "password"]
          effect issue_code user=u-ada amr=["email", "pwd"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify ada@example.com PasswordChanged
          SUCCESS new session cookie
    "#]]);
    assert!(password_is(&j, "a brand new passphrase"));
}

#[test]
fn recovering_an_address_without_an_account_looks_and_costs_the_same() {
    let trace = |email: &str| {
        let mut j = Journey::with_passwords(Intent::Recover, Enrollment::Optional);
        j.submit("identify-recovery", &[("identifier", email)]).wait(30).submit("resend", &[]);
        j.trace.replace(email, "EMAIL")
    };
    let known = trace("ada@example.com");
    let unknown = trace("nobody@example.com");
    // The same steps, messages and effects: an email each time, which for an address
    // without an account says so (no link, no code).
    assert_eq!(known.replace("purpose=Recover", "purpose=NoAccount"), unknown);
    assert_eq!(unknown.matches("send_email to=EMAIL purpose=NoAccount").count(), 2, "{unknown}");
}

#[test]
fn a_stronger_recovery_needs_email_and_the_authenticator_app() {
    let mut j = Journey::with_passwords(Intent::Recover, Enrollment::Optional);
    j.settings.recovery = RecoveryPolicy {
        authenticators: vec![AuthenticatorKind::Email, AuthenticatorKind::Totp],
        factors: 2,
        ..RecoveryPolicy::default()
    };
    j.password("u-ada", "correct horse battery staple").authenticator_app("u-ada", b"12345678901234567890");
    let code = j.code_of(b"12345678901234567890");
    j.submit("identify-recovery", ADA)
        .type_mailed_code()
        .submit("challenge-authenticator", &[("code", &code)])
        .submit("reset-authenticator", &[("password", "a brand new passphrase")]);
    j.check(expect![[r#"
        > identify-recovery identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect log user.account.recovery.start Success
          effect send_email to=ada@example.com purpose=Recover
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step totp_challenge offers [challenge-authenticator]
          info recovery.another_check
          effect answer_accepted email
          effect log user.authentication.verify Success
        > challenge-authenticator code=768147
          attempt totp: Granted { locks: false }
          step reset_password offers [reset-authenticator]
          effect totp_used user=u-ada step=60000000
          effect answer_accepted totp
          effect log user.authentication.verify Success
          effect log user.authentication.auth_via_mfa Success
        > reset-authenticator password=a brand new passphrase
          step completed offers []
          info recovery.done
          effect set_password user=u-ada argon2id=true
          effect log user.mfa.factor.activate Success
          effect revoke_sessions user=u-ada
          effect log user.account.reset_password Success
          effect start_session id=01a3185c5000bMFqvXDu-5DcCw user=u-ada proofs=["email", "totp", "password"]
          effect issue_code user=u-ada amr=["email", "otp", "pwd"] scope="openid email" sid=01a3185c5000bMFqvXDu-5DcCw
          effect log user.session.start Success
          effect notify ada@example.com PasswordChanged
          SUCCESS new session cookie
    "#]]);

    // Without an authenticator app, the account cannot meet that policy: said once the
    // email is proven, so until then it looks like any other address.
    let mut j = Journey::with_passwords(Intent::Recover, Enrollment::Optional);
    j.settings.recovery = RecoveryPolicy {
        authenticators: vec![AuthenticatorKind::Email, AuthenticatorKind::Totp],
        factors: 2,
        ..RecoveryPolicy::default()
    };
    j.submit("identify-recovery", ADA);
    assert!(j.trace.contains("step email_challenge"), "{}", j.trace);
    j.type_mailed_code();
    assert!(
        j.trace.ends_with(
            "step cannot_recover offers []\n  effect answer_accepted email\n  effect log user.authentication.verify Success\n  effect log user.account.recovery.refuse Deny\n"
        ),
        "{}",
        j.trace
    );
}

fn phishing_resistant_app() -> crate::engine::AppSettings {
    let mut sensitive = app(true, Enrollments { passkey: Enrollment::Optional, ..NO_ENROLLMENT });
    sensitive.sign_on = SignOnPolicy {
        rules: vec![Rule {
            name: "Phishing-resistant".into(),
            when: Conditions::default(),
            access: Access::Allow(Assurance { phishing_resistant: true, ..Assurance::default() }),
        }],
    };
    sensitive
}

/// A phishing-resistant app whose recovery policy lets email alone recover (said
/// explicitly), an account whose passkey is lost: email alone cannot sign in, so the
/// passkey challenge offers recovery, which makes a new passkey.
#[test]
fn a_lost_passkey_is_replaced_in_an_app_without_passwords() {
    let mut j = Journey::with_app(Intent::Login, phishing_resistant_app());
    j.settings.recovery.email_alone_for_phishing_resistant_apps = true;
    j.passkeys.insert("u-ada".into(), 1);
    j.submit("identify", ADA)
        .select("select-authenticator-authenticate", "email")
        .type_mailed_code()
        .submit("select-identify-recovery", &[])
        .submit("identify-recovery", ADA)
        .type_mailed_code()
        .answer("reset-authenticator", registered("cred-2"))
        .submit("remove-old-authenticators", &[]);
    j.check(expect![[r#"
          start effect begin_ceremony Discoverable
        > identify identifier=ada@example.com
          step passkey_challenge of u-ada offers [challenge-authenticator, select-authenticator-authenticate]
          effect begin_ceremony Authenticate { user_id: u-ada }
        > select-authenticator-authenticate authenticator=email
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend, select-authenticator-authenticate]
          effect send_email to=ada@example.com purpose=SignIn
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step passkey_challenge of u-ada offers [challenge-authenticator, select-identify-recovery]
          info policy.step_up
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect log policy.evaluate_sign_on Challenge
          effect begin_ceremony Authenticate { user_id: u-ada }
        > select-identify-recovery 
          step identify_recovery offers [identify-recovery, select-identify]
        > identify-recovery identifier=ada@example.com
          step email_challenge attempts_left=5 offers [challenge-authenticator, challenge-poll, resend]
          effect log user.account.recovery.start Success
          effect send_email to=ada@example.com purpose=Recover
          effect log user.authentication.challenge.sent Success
        > challenge-authenticator code=<mailed>
          attempt email: Granted { locks: false }
          step reset_passkey offers [reset-authenticator]
          effect answer_accepted email
          effect log user.authentication.verify Success
          effect begin_ceremony Register { user_id: u-ada, email: ada@example.com, display_name: ada@example.com }
        > reset-authenticator credential=<registered cred-2>
          step reset_old_passkeys keep=cred-2 old=1 offers [remove-old-authenticators, skip]
          info recovery.done
          effect save_passkey user=u-ada cred=cred-2 name="Firefox on Linux"
          effect log user.mfa.factor.activate Success
          effect revoke_sessions user=u-ada
          effect log user.account.reset_password Success
          effect notify ada@example.com AuthenticatorAdded(Passkey)
        > remove-old-authenticators 
          step completed offers []
          info recovery.done
          effect remove_old_passkeys user=u-ada keep=cred-2
          effect log user.mfa.factor.deactivate Success
          effect start_session id=01a3185c5000X9G3nr3vlhmleQ user=u-ada proofs=["email", "passkey"]
          effect issue_code user=u-ada amr=["email", "pop"] scope="openid email" sid=01a3185c5000X9G3nr3vlhmleQ
          effect log user.session.start Success
          effect notify ada@example.com AuthenticatorRemoved(Passkey)
          SUCCESS new session cookie
    "#]]);
}

fn password_is(j: &Journey, password: &str) -> bool {
    crate::authenticators::password::matches(password, &j.passwords["u-ada"])
}

/// Unless the recovery policy says so, a mailbox alone does not recover an account in
/// an app that requires phishing resistance: the passkey is asked too, and an account
/// without one cannot recover there.
#[test]
fn email_alone_does_not_recover_a_phishing_resistant_app() {
    let mut j = Journey::with_app(Intent::Recover, phishing_resistant_app());
    j.passkeys.insert("u-ada".into(), 1);
    j.submit("identify-recovery", ADA).type_mailed_code();
    assert!(j.trace.contains("step passkey_challenge of u-ada"), "a passkey is asked too: {}", j.trace);
    assert!(j.trace.contains("info recovery.another_check"), "{}", j.trace);

    let mut j = Journey::with_app(Intent::Recover, phishing_resistant_app());
    j.submit("identify-recovery", ADA).type_mailed_code();
    assert!(j.trace.contains("step cannot_recover"), "no passkey, no recovery: {}", j.trace);
}
