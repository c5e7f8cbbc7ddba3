//! A profile changed outside a flow (an operator through the admin API), checked against
//! the schema the same way a person's answers are: only attributes in the schema, each
//! value within its limits. `email` is the account's identifier and consents are given
//! by the person, so neither is changed here.

use std::collections::BTreeMap;

use passway_protocol::{FieldValue, Submission};

use super::{AttributeKind, ProfileSchema, Timestamp, register};

/// The profile `current` becomes with `changes` (a value sets, `None` removes), or the
/// first attribute refused and why.
pub fn checked(
    schema: &ProfileSchema,
    current: &BTreeMap<String, String>,
    changes: &BTreeMap<String, Option<String>>,
    now: Timestamp,
) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut profile = current.clone();
    for (name, value) in changes {
        let refuse = |why: &str| Err((name.clone(), why.to_owned()));
        let Some(attr) = schema.attributes.iter().find(|a| &a.name == name) else {
            return refuse("not in the profile schema");
        };
        match (&attr.kind, value) {
            (AttributeKind::Email, _) => {
                return refuse("the email is the account's identifier: it is not changed here");
            }
            (AttributeKind::Consent, _) => return refuse("a consent is given by the person"),
            (_, None) if attr.required => return refuse("required"),
            (_, None) => {
                profile.remove(name);
            }
            (AttributeKind::Boolean, Some(v)) if v != "true" && v != "false" => {
                return refuse("expected true or false");
            }
            (_, Some(v)) => {
                let mut values = Submission::new();
                values.insert(name.clone(), FieldValue::Text(v.clone()));
                match register::check(attr, attr.required, &values, now) {
                    Ok(checked) => profile.insert(name.clone(), checked),
                    Err(key) => return refuse(key),
                };
            }
        }
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Attribute;

    fn schema() -> ProfileSchema {
        let text = |name: &str, required| Attribute {
            name: name.into(),
            label: name.into(),
            kind: AttributeKind::Text,
            required,
            min_length: 0,
            max_length: 5,
            pattern: None,
            labels: Default::default(),
            at_registration: true,
        };
        let mut consent = text("terms", false);
        consent.kind = AttributeKind::Consent;
        ProfileSchema { attributes: vec![Attribute::email(), text("given_name", true), text("nick", false), consent] }
    }

    fn check(changes: &[(&str, Option<&str>)], expect: Result<&[(&str, &str)], (&str, &str)>) {
        let current: BTreeMap<String, String> =
            [("given_name".into(), "Ada".into()), ("nick".into(), "A".into())].into();
        let changes = changes.iter().map(|(k, v)| (k.to_string(), v.map(str::to_owned))).collect();
        let got = checked(&schema(), &current, &changes, Timestamp(0));
        let expect = expect
            .map(|p| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
            .map_err(|(k, why)| (k.to_owned(), why.to_owned()));
        assert_eq!(got, expect);
    }

    #[test]
    fn changes_are_checked_against_the_schema() {
        check(&[("nick", Some("Ad"))], Ok(&[("given_name", "Ada"), ("nick", "Ad")]));
        check(&[("nick", None)], Ok(&[("given_name", "Ada")]));
        check(&[("given_name", None)], Err(("given_name", "required")));
        check(&[("nick", Some("toolong"))], Err(("nick", "field.too_long")));
        check(&[("shoe_size", Some("9"))], Err(("shoe_size", "not in the profile schema")));
        check(
            &[("email", Some("b@x.io"))],
            Err(("email", "the email is the account's identifier: it is not changed here")),
        );
        check(&[("terms", Some("2026-01-01T00:00:00Z"))], Err(("terms", "a consent is given by the person")));
    }
}
