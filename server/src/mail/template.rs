//! The challenge email: a link and a code, in the app's brand and the person's language.

use super::RenderedEmail;
use crate::authenticators::email::Purpose;
use crate::branding::Brand;
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
    let (subject, intro) = (t(&format!("mail.{wording}.subject")), t(&format!("mail.{wording}.intro")));
    let (button, code_line, expiry) = (t("mail.button"), t("mail.code"), t("mail.expiry"));
    let footer = brand.email_footer.clone().unwrap_or_default();
    // Nothing to open or type: the address has no account.
    let no_account = email.purpose == Purpose::NoAccount;
    let (button, code_line, expiry) = if no_account {
        (String::new(), String::new(), t("mail.no_account.ignore"))
    } else {
        (button, code_line, expiry)
    };

    let text = if no_account {
        format!("{intro}\n\n{expiry}\n\n-- \n{footer}\n")
    } else {
        format!("{intro}\n\n{}\n\n{code_line}\n\n{expiry}\n\n-- \n{footer}\n", email.link)
    };

    let c = |name: &str| brand.colors.get(name).cloned().unwrap_or_default();
    let html = format!(
        r#"<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{subject}</title></head>
<body style="margin:0;padding:24px;background:{bg};font-family:{font};color:{text}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:480px;margin:0 auto;background:{surface};border:1px solid {border};border-radius:12px">
<tr><td style="padding:32px">
<img src="{logo}" alt="{app}" height="40" style="display:block;height:40px;margin:0 0 24px">
<p style="margin:0 0 24px;font-size:16px;line-height:1.5">{intro}</p>
{action}
<p style="margin:24px 0 0;font-size:13px;color:{muted}">{expiry}</p>
</td></tr></table>
<p style="max-width:480px;margin:16px auto 0;font-size:12px;color:{muted};text-align:center">{footer}</p>
</body></html>
"#,
        lang = escape(email.locale),
        dir = crate::i18n::direction(email.locale),
        subject = escape(&subject),
        bg = c("background"),
        font = escape(&brand.font_family),
        text = c("text"),
        surface = c("surface"),
        border = c("border"),
        muted = c("muted"),
        logo = escape(email.logo_url),
        app = escape(email.app_name),
        intro = escape(&intro),
        action = if no_account {
            String::new()
        } else {
            format!(
                "<p style=\"margin:0 0 24px\"><a href=\"{link}\" style=\"display:inline-block;padding:12px 20px;background:{primary};color:{on_primary};text-decoration:none;font-weight:600;border-radius:8px\">{button}</a></p>\n<p style=\"margin:0 0 8px;font-size:15px\">{code_line_html}</p>",
                link = escape(email.link),
                primary = c("primary"),
                on_primary = c("on_primary"),
                button = escape(&button),
                code_line_html = escape(&code_line).replace(
                    &escape(email.code),
                    &format!("<strong style=\"font-size:22px;letter-spacing:4px\">{}</strong>", escape(email.code))
                ),
            )
        },
        expiry = escape(&expiry),
        footer = escape(&footer),
    );
    RenderedEmail { to: email.to.to_owned(), subject, text, html }
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
        assert!(m.html.contains("href=\"https://auth.example/email/verify?t=f.s&amp;x=1\""));
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
}
