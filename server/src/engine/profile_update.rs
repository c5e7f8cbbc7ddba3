//! `enroll-profile-update`: progressive profiling. Once signed in, an app may need
//! attributes the profile lacks (a shop asks for a mailing address before checkout); they
//! are asked for then, and only then — with `skip` when none of them is required.

use std::collections::BTreeMap;

use passway_protocol::{Submission, names};

use super::finish::{self, SignIn};
use super::hook::{self, HookPoint};
use super::register;
use super::{
    Attribute, Effect, Env, EventType, Flow, LogEntry, LogOutcome, Notice, Outcome, Step, Target, User, World,
};

/// What is known of the person's profile: the account's, and what this flow added.
fn known(flow: &Flow, world: &World) -> BTreeMap<String, String> {
    let mut profile = world.user.as_ref().map(|u| u.profile.clone()).unwrap_or_default();
    profile.extend(flow.profile.clone());
    profile
}

/// The attributes to ask for now: those the app needs and the profile lacks, unless the
/// person already skipped them (possible only when none is required).
pub(super) fn to_ask(flow: &Flow, world: &World, env: &Env<'_>) -> Vec<String> {
    let known = known(flow, world);
    let missing: Vec<&super::AppAttribute> =
        env.app.profile_update.iter().filter(|a| known.get(&a.name).is_none_or(|v| v.is_empty())).collect();
    let skippable = missing.iter().all(|a| !a.required);
    if missing.is_empty() || (skippable && flow.profile_skipped) {
        return vec![];
    }
    missing.into_iter().map(|a| a.name.clone()).collect()
}

/// The schema attribute `name` and whether the app requires it.
pub(super) fn attribute<'e>(
    name: &str,
    app: &super::AppSettings,
    schema: &'e super::ProfileSchema,
) -> Option<(&'e Attribute, bool)> {
    let attr = schema.attributes.iter().find(|a| a.name == name)?;
    let required = app.profile_update.iter().any(|a| a.name == name && a.required);
    Some((attr, required))
}

/// The answers in `values` to the attributes being asked for, or the notices of what
/// is wrong with them.
pub(super) fn answers(
    flow: &Flow,
    values: &Submission,
    app: &super::AppSettings,
    settings: &super::EngineSettings,
    now: super::Timestamp,
) -> Result<BTreeMap<String, String>, Vec<Notice>> {
    let Step::EnrollProfileUpdate { attributes } = &flow.step else {
        unreachable!("offered only while asking for profile attributes")
    };
    let mut answers = BTreeMap::new();
    let mut notices = vec![];
    for name in attributes {
        let Some((attr, required)) = attribute(name, app, &settings.profile) else { continue };
        match register::check(attr, required, values, now) {
            Ok(v) if !v.is_empty() => {
                answers.insert(name.clone(), v);
            }
            Ok(_) => {}
            Err(key) => notices.push(Notice::error(key).on(name.clone())),
        }
    }
    if notices.is_empty() { Ok(answers) } else { Err(notices) }
}

pub(super) fn submit(mut flow: Flow, values: &Submission, world: &World, env: &mut Env<'_>) -> Outcome {
    let mut answers = match answers(&flow, values, env.app, env.settings, env.now) {
        Ok(a) => a,
        Err(notices) => return Outcome::invalid(flow, names::ENROLL_PROFILE_UPDATE, values, notices),
    };
    // A progressive-profile hook may refuse what was submitted, or change it (only the
    // attributes being asked for, within the schema).
    let Step::EnrollProfileUpdate { attributes } = &flow.step else { unreachable!("checked by answers") };
    let allowed: Vec<&Attribute> =
        attributes.iter().filter_map(|n| attribute(n, env.app, &env.settings.profile).map(|(a, _)| a)).collect();
    let hook_log = match hook::on_profile(
        HookPoint::ProgressiveProfile,
        &flow,
        names::ENROLL_PROFILE_UPDATE,
        values,
        &mut answers,
        &allowed,
        world,
        env,
    ) {
        Ok(logged) => logged,
        Err(refused) => return *refused,
    };
    // Nothing given for optional questions is the same as skipping them.
    if answers.is_empty() {
        let mut out = skip(flow, world, env);
        out.effects.extend(hook_log);
        return out;
    }
    flow.profile.extend(answers.clone());
    let user_id = flow.account.clone().expect("the profile is updated after sign-in");
    let email = flow.subject.as_ref().map(|s| s.email.clone()).unwrap_or_default();
    let profile = known(&flow, world);
    let world = World {
        user: Some(User { id: user_id.clone(), email: email.clone(), profile: profile.clone() }),
        ..world.clone()
    };
    let update = Effect::UpdateProfile { user_id: user_id.clone(), profile, at: env.now };
    let added = answers.keys().cloned().collect::<Vec<_>>().join(", ");
    let log = Effect::Log(
        LogEntry::new(EventType::UserAccountUpdateProfile, LogOutcome::Success, "Profile completed for an app")
            .reason(format!("added {added}"))
            .actor(user_id.clone(), email.clone())
            .target(Target::User { id: user_id, email }),
    );
    let how = how(&flow);
    let mut out = finish::signed_in(flow, how, &world, env);
    out.effects.splice(0..0, hook_log.into_iter().chain([update, log]));
    out
}

/// `skip`: not now. Offered only when the app requires none of the attributes.
pub(super) fn skip(mut flow: Flow, world: &World, env: &mut Env<'_>) -> Outcome {
    flow.profile_skipped = true;
    let how = how(&flow);
    finish::signed_in(flow, how, world, env)
}

/// A flow that resumed an SSO session keeps that standing across the question (so an
/// optional passkey offer is not made to it, as before the question).
fn how(flow: &Flow) -> SignIn {
    if flow.session.is_some() { SignIn::Session } else { SignIn::Fresh }
}
