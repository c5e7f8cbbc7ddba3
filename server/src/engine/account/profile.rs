//! `update-profile`: the attributes a person may change themselves (the schema's, but
//! the email — the account's identifier — and consents, given once).

use passway_protocol::{FieldValue, Submission, names};

use super::{home, owner, shown};
use crate::engine::{
    Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, World, profile_change,
};

pub(super) fn update(flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let current = shown(&flow).profile.clone();
    let changes = values
        .iter()
        .map(|(name, value)| {
            let text = match value {
                FieldValue::Text(t) => t.trim().to_owned(),
                FieldValue::Bool(b) => b.to_string(),
            };
            (name.clone(), (!text.is_empty()).then_some(text))
        })
        .collect();
    let profile = match profile_change::checked(&env.settings.profile, &current, &changes, env.now) {
        Ok(p) => p,
        Err((field, why)) => {
            let key = match why.as_str() {
                "required" | "field.required" => "field.required",
                "field.too_long" => "field.too_long",
                _ => "field.invalid",
            };
            return Outcome::invalid(flow, names::UPDATE_PROFILE, values, vec![Notice::error(key).on(field)]);
        }
    };
    if profile == current {
        return home(flow, world, env).notice(Notice::info("account.saved"));
    }
    let (user_id, email) = owner(&flow);
    let entry =
        LogEntry::new(EventType::UserAccountUpdateProfile, LogOutcome::Success, "Profile changed on the account page")
            .actor(user_id.clone(), email.clone())
            .target(Target::User { id: user_id.clone(), email });
    let mut out = home(flow, world, env);
    if let Step::Account(h) = &mut out.flow.step {
        h.profile = profile.clone();
    }
    out.effects.push(Effect::UpdateProfile { user_id, profile, at: env.now });
    out.effects.push(Effect::Log(entry));
    out.notice(Notice::info("account.saved"))
}
