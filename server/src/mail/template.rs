//! What emails say, in the app's brand and the person's language: the challenge (a
//! link and a code) and the notices about an account. How they look is the brand's
//! templates' business (`branding::emails`).

use super::RenderedEmail;
use crate::authenticators::email::Purpose;
use crate::branding::Brand;
use crate::branding::emails::{self, Action, CodeLine, EmailContext};
use crate::engine::Texts;
use crate::html::escape;

/// What the email needs beyond the engine's [`crate::engine::OutgoingEmail`].
#[derive(Clone, Copy)]
pub struct ChallengeEmail<'a> {
    pub to: &'a str,
    pub app_name: &'a str,
    /// Decides the wording.
    pub purpose: Purpose,
    pub code: &'a str,
    /// The full magic-link URL.
    pub link: &'a str,
    /// Absolute URL of the brand's logo.
    pub logo_url: &'a str,
    /// The language it is written in (the `lang` of its HTML).
    pub locale: &'a str,
}

pub fn render_challenge(email: &ChallengeEmail<'_>, brand: &Brand, texts: &dyn Texts) -> RenderedEmail {
    let params = [("app", email.app_name.to_owned()), ("code", email.code.to_owned())];
    let t = |key: &str| texts.fill(&texts.get(key).unwrap_or_default(), &params);
    let wording = match email.purpose {
        Purpose::SignIn => "sign_in",
        Purpose::Register => "register",
        Purpose::Recover => "recover",
        Purpose::NoAccount => "no_account",
    };
    let mut ctx = context("challenge", email.to, email.app_name, email.logo_url, email.locale, brand);
    ctx.subject = t(&format!("mail.{wording}.subject"));
    ctx.intro = t(&format!("mail.{wording}.intro"));
    if email.purpose == Purpose::NoAccount {
        // Nothing to open or type: the address has no account.
        ctx.notes = vec![t("mail.no_account.ignore")];
    } else {
        ctx.action = Some(Action { url: email.link.to_owned(), label: t("mail.button") });
        let line = t("mail.code");
        let (before, after) = line.split_once(email.code).unwrap_or((line.as_str(), ""));
        ctx.code = Some(CodeLine { before: before.to_owned(), code: email.code.to_owned(), after: after.to_owned() });
        ctx.notes = vec![t("mail.expiry")];
    }
    rendered(email.to, &ctx, brand)
}

/// A notice about the account, sent after what it tells of happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The account was just created.
    Welcome,
    /// A sign-in from a browser the account had not used (described).
    NewDevice {
        browser: String,
    },
    PasswordChanged,
    /// An authenticator was added (`mail.kind.*`: passkey, password, totp).
    AuthenticatorAdded {
        kind: &'static str,
    },
    AuthenticatorRemoved {
        kind: &'static str,
    },
    /// Too many wrong answers: signing in with `kind` is paused for `minutes`.
    Locked {
        kind: &'static str,
        minutes: u64,
    },
}

impl Notice {
    /// Its name in `[[apps]] emails` and in the studio.
    pub fn name(&self) -> &'static str {
        match self {
            Notice::Welcome => "welcome",
            Notice::NewDevice { .. } => "new_device",
            Notice::PasswordChanged => "password_changed",
            Notice::AuthenticatorAdded { .. } => "authenticator_added",
            Notice::AuthenticatorRemoved { .. } => "authenticator_removed",
            Notice::Locked { .. } => "locked",
        }
    }
}

/// The notices something sends, which `[[apps]] emails` may turn on.
pub const SENT_NOTICES: &[&str] =
    &["welcome", "new_device", "password_changed", "authenticator_added", "authenticator_removed", "locked"];

/// What a notice email needs.
pub struct NoticeEmail<'a> {
    pub to: &'a str,
    pub app_name: &'a str,
    pub logo_url: &'a str,
    pub locale: &'a str,
    /// When it happened, as the person reads it (UTC).
    pub time: &'a str,
    pub notice: Notice,
}

pub fn render_notice(email: &NoticeEmail<'_>, brand: &Brand, texts: &dyn Texts) -> RenderedEmail {
    let mut params =
        vec![("app", email.app_name.to_owned()), ("email", email.to.to_owned()), ("time", email.time.to_owned())];
    match &email.notice {
        Notice::NewDevice { browser } => params.push(("browser", browser.clone())),
        Notice::AuthenticatorAdded { kind } | Notice::AuthenticatorRemoved { kind } => {
            params.push(("authenticator", texts.get(&format!("mail.kind.{kind}")).unwrap_or_default()))
        }
        Notice::Locked { kind, minutes } => {
            params.push(("authenticator", texts.get(&format!("mail.kind.{kind}")).unwrap_or_default()));
            params.push(("minutes", minutes.to_string()));
        }
        Notice::Welcome | Notice::PasswordChanged => {}
    }
    let t = |key: &str| texts.fill(&texts.get(key).unwrap_or_default(), &params);
    let name = email.notice.name();
    let kind = if email.notice == Notice::Welcome { "welcome" } else { "notice" };
    let mut ctx = context(kind, email.to, email.app_name, email.logo_url, email.locale, brand);
    ctx.subject = t(&format!("mail.{name}.subject"));
    ctx.intro = t(&format!("mail.{name}.intro"));
    ctx.notes = if email.notice == Notice::Welcome {
        vec![t("mail.welcome.not_you")]
    } else {
        vec![t("mail.notice.was_you"), t("mail.notice.not_you")]
    };
    rendered(email.to, &ctx, brand)
}

/// An operator's invitation to create an account for `to` (the link starts the
/// registration, bound to the address).
pub struct InvitationEmail<'a> {
    pub to: &'a str,
    pub app_name: &'a str,
    pub logo_url: &'a str,
    pub locale: &'a str,
    pub link: &'a str,
}

pub fn render_invitation(email: &InvitationEmail<'_>, brand: &Brand, texts: &dyn Texts) -> RenderedEmail {
    let params = [("app", email.app_name.to_owned()), ("email", email.to.to_owned())];
    let t = |key: &str| texts.fill(&texts.get(key).unwrap_or_default(), &params);
    let mut ctx = context("invitation", email.to, email.app_name, email.logo_url, email.locale, brand);
    ctx.subject = t("mail.invitation.subject");
    ctx.intro = t("mail.invitation.intro");
    ctx.action = Some(Action { url: email.link.to_owned(), label: t("mail.invitation.action") });
    ctx.notes = vec![t("mail.invitation.not_you")];
    rendered(email.to, &ctx, brand)
}

/// An email's context with its brand's look and nothing said yet.
fn context(kind: &'static str, to: &str, app: &str, logo_url: &str, locale: &str, brand: &Brand) -> EmailContext {
    let _ = to;
    EmailContext {
        kind,
        lang: locale.to_owned(),
        dir: crate::i18n::direction(locale),
        subject: String::new(),
        app: app.to_owned(),
        logo_url: logo_url.to_owned(),
        intro: String::new(),
        action: None,
        code: None,
        notes: vec![],
        footer: brand.email_footer.clone().unwrap_or_default(),
        colors: brand.colors.clone(),
        font_family: brand.font_family.clone(),
    }
}

/// The email from the brand's templates; should they fail (they were checked when the
/// theme loaded, so only a template that depends on the language could), its words in
/// plain text, and the failure logged.
fn rendered(to: &str, ctx: &EmailContext, brand: &Brand) -> RenderedEmail {
    match emails::render(&brand.emails, ctx) {
        Ok((html, text)) => RenderedEmail { to: to.to_owned(), subject: ctx.subject.clone(), text, html },
        Err(e) => {
            tracing::error!(brand = %brand.id, error = %e, "an email template failed: sent as plain text");
            let mut text = ctx.intro.clone();
            if let Some(a) = &ctx.action {
                text.push_str(&format!("\n\n{}", a.url));
            }
            if let Some(c) = &ctx.code {
                text.push_str(&format!("\n\n{}{}{}", c.before, c.code, c.after));
            }
            for n in &ctx.notes {
                text.push_str(&format!("\n\n{n}"));
            }
            let html = format!("<!doctype html><pre>{}</pre>", escape(&text));
            RenderedEmail { to: to.to_owned(), subject: ctx.subject.clone(), text, html }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::branding::Brands;
    use crate::i18n::Catalog;

    #[test]
    fn branded_localised_and_escaped() {
        let brands =
            Brands::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes"), Catalog::builtin()).unwrap();
        let email = ChallengeEmail {
            to: "ada@example.com",
            app_name: "Shop <&>",
            purpose: Purpose::SignIn,
            code: "012345",
            link: "https://auth.example/email/verify?t=f.s&x=1",
            logo_url: "https://auth.example/themes/acme/logo.svg",
            locale: "en",
        };
        let m = render_challenge(&email, &brands.get("acme").unwrap(), &brands.texts("acme", "en"));
        assert_eq!(m.subject, "Sign in to Shop <&>");
        assert!(m.text.contains("https://auth.example/email/verify?t=f.s&x=1"));
        assert!(m.text.contains("Or type this code: 012345"));
        assert!(m.text.contains("Acme Shop · 1 Market Street"), "brand footer");
        assert!(m.html.contains("verify?t=f.s&amp;x=1\"") && !m.html.contains("&x=1"), "the link, escaped");
        assert!(m.html.contains("Shop &lt;&amp;&gt;") && !m.html.contains("Shop <&>"));
        assert!(m.html.contains("background:#b93c0b"), "brand primary colour");
        assert!(m.html.contains(">012345</strong>"));
        assert!(m.html.contains("<html lang=\"en\" dir=\"ltr\">"));
        let french = ChallengeEmail { locale: "fr", ..email };
        let m = render_challenge(&french, &brands.get("acme").unwrap(), &brands.texts("acme", "fr"));
        assert!(m.html.contains("<html lang=\"fr\" dir=\"ltr\">"), "the language it is written in");
        let arabic = ChallengeEmail { locale: "ar", ..email };
        let m = render_challenge(&arabic, &brands.get("acme").unwrap(), &brands.texts("acme", "ar"));
        assert!(m.html.contains("<html lang=\"ar\" dir=\"rtl\">"), "Arabic reads right to left");
        let subject = |purpose| {
            let email = ChallengeEmail { purpose, ..email };
            render_challenge(&email, &brands.get("acme").unwrap(), &brands.texts("acme", "en")).subject
        };
        assert_eq!(subject(Purpose::Register), "Confirm your email for Shop <&>");
        assert_eq!(subject(Purpose::Recover), "Reset your password for Shop <&>");
        // An address without an account: told so, with nothing to open or type.
        let none = ChallengeEmail { purpose: Purpose::NoAccount, code: "", link: "", ..email };
        let m = render_challenge(&none, &brands.get("acme").unwrap(), &brands.texts("acme", "en"));
        assert_eq!(m.subject, "Reset your password for Shop <&>", "the same subject as for an account");
        assert!(m.text.contains("there is no Shop <&> account"), "{}", m.text);
        assert!(!m.text.contains("code") && !m.html.contains("href="), "{}", m.html);
    }

    /// Notices say what happened, when, and what to do if it was not the person; in
    /// their language, with the brand's footer, in both parts.
    #[test]
    fn notices() {
        let brands =
            Brands::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../themes"), Catalog::builtin()).unwrap();
        let acme = brands.get("acme").unwrap();
        let notice = |notice: Notice, locale: &str| {
            let email = NoticeEmail {
                to: "ada@example.com",
                app_name: "Acme Shop",
                logo_url: "https://auth.example/themes/acme/logo.svg",
                locale,
                time: "2030-03-17 17:46 UTC",
                notice,
            };
            render_notice(&email, &acme, &brands.texts("acme", locale))
        };
        let m = notice(Notice::NewDevice { browser: "Firefox on Windows".into() }, "en");
        assert_eq!(m.subject, "New sign-in to your Acme Shop account");
        assert!(m.text.contains("from Firefox on Windows on 2030-03-17 17:46 UTC"), "{}", m.text);
        assert!(m.text.contains("If it was not you, reset your password"), "{}", m.text);
        assert!(m.text.contains("Acme Shop · 1 Market Street") && m.html.contains("Acme Shop · 1 Market Street"));
        let m = notice(Notice::AuthenticatorAdded { kind: "passkey" }, "en");
        assert!(m.text.starts_with("A passkey was added to your Acme Shop account"), "{}", m.text);
        let m = notice(Notice::Locked { kind: "password", minutes: 1 }, "en");
        assert!(m.text.contains("paused for 1 minute."), "{}", m.text);
        let m = notice(Notice::Locked { kind: "password", minutes: 15 }, "pl");
        assert!(m.text.contains("15") && !m.text.contains('{'), "{}", m.text);
        let m = notice(Notice::Welcome, "ar");
        assert!(m.html.contains("dir=\"rtl\"") && m.subject.contains("Acme Shop"), "{}", m.html);
        for n in [Notice::Welcome, Notice::PasswordChanged, Notice::AuthenticatorRemoved { kind: "totp" }] {
            for locale in ["en", "fr", "ja", "he"] {
                let m = notice(n.clone(), locale);
                assert!(
                    !m.subject.is_empty() && !m.text.contains('{') && !m.html.contains('{'),
                    "{locale} {n:?}: {}",
                    m.text
                );
            }
        }
    }
}
