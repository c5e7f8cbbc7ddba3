//! WebAuthn ceremonies with webauthn-rs: begun when the engine asks
//! (`Effect::BeginCeremony`), their state kept in the store, taken once and verified
//! when the browser answers. The engine only ever sees the verified outcome.

use std::collections::BTreeMap;

use passway_protocol::WebAuthn;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

use super::JourneyError;
use crate::app::AppState;
use crate::config::Config;
use crate::crypto::{b64url, b64url_decode};
use crate::engine::{Ceremony, CeremonyFailure, CeremonyKind, CeremonyOutcome, Timestamp, User};
use crate::store::StoredCeremony;

/// The WebAuthn relying party of each brand that has one.
pub struct RelyingParties {
    by_brand: BTreeMap<String, Webauthn>,
}

impl RelyingParties {
    /// One relying party per configured brand. Its primary origin is the issuer's (the
    /// hosted page) when the issuer lies within the RP ID, else the first configured
    /// origin that does (a brand served from its own domain); the other configured
    /// origins are allowed too (related origins).
    pub fn build(config: &Config, issuer: &str) -> Result<RelyingParties, String> {
        let issuer_origin = Url::parse(issuer).map_err(|e| format!("issuer {issuer}: {e}"))?;
        let mut by_brand = BTreeMap::new();
        for (brand, party) in &config.passkeys {
            let origins = party
                .origins
                .iter()
                .map(|o| Url::parse(o).map_err(|e| format!("passkeys origin {o}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            let within =
                |u: &Url| u.domain().is_some_and(|d| d == party.rp_id || d.ends_with(&format!(".{}", party.rp_id)));
            let primary = std::iter::once(&issuer_origin).chain(&origins).find(|u| within(u)).ok_or_else(|| {
                format!(
                    "passkeys of brand {brand}: neither the issuer {issuer} nor any configured origin is on {rp} or a subdomain of it \
                     (WebAuthn also refuses IP addresses: use a host name such as localhost)",
                    rp = party.rp_id
                )
            })?;
            let mut builder =
                WebauthnBuilder::new(&party.rp_id, primary).map_err(|e| format!("passkeys of brand {brand}: {e}"))?;
            builder = builder.rp_name(&party.rp_name);
            for origin in std::iter::once(&issuer_origin).chain(&origins).filter(|o| *o != primary) {
                builder = builder.append_allowed_origin(origin);
            }
            let webauthn = builder.build().map_err(|e| format!("passkeys for brand {brand}: {e}"))?;
            by_brand.insert(brand.clone(), webauthn);
        }
        Ok(RelyingParties { by_brand })
    }

    pub fn for_brand(&self, brand: &str) -> Option<&Webauthn> {
        self.by_brand.get(brand)
    }
}

/// What the store keeps of a ceremony, by kind.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum State {
    Register { state: PasskeyRegistration },
    Authenticate { user_id: String, state: PasskeyAuthentication },
    Discoverable { state: DiscoverableAuthentication },
}

/// Starts `ceremony` and returns what to store, with the browser options.
pub async fn begin(
    app: &AppState,
    webauthn: &Webauthn,
    ceremony: &Ceremony,
    expires_at: Timestamp,
) -> Result<(StoredCeremony, WebAuthn), JourneyError> {
    let failed = |e: WebauthnError| JourneyError::Passkeys(format!("cannot start a WebAuthn ceremony: {e}"));
    let (state, options) = match &ceremony.kind {
        CeremonyKind::Register { user_id, email, display_name } => {
            let handle = user_handle(user_id)?;
            let exclude =
                app.store.passkeys_of(user_id).await?.iter().filter_map(|p| b64url_decode(&p.cred_id)).collect();
            let (mut options, state) =
                webauthn.start_passkey_registration(handle, email, display_name, Some(exclude)).map_err(failed)?;
            // Passkeys are discoverable credentials, so they can sign in without an
            // identifier. (webauthn-rs does not check this at finish; it is a request.)
            if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
                selection.resident_key = Some(ResidentKeyRequirement::Required);
                selection.require_resident_key = true;
            }
            (State::Register { state }, WebAuthn::Create(options))
        }
        CeremonyKind::Authenticate { user_id } => {
            let passkeys = passkeys_of(app, user_id).await?;
            let (options, state) = webauthn.start_passkey_authentication(&passkeys).map_err(failed)?;
            (State::Authenticate { user_id: user_id.clone(), state }, WebAuthn::Get(options))
        }
        CeremonyKind::Discoverable => {
            let (options, state) = webauthn.start_discoverable_authentication().map_err(failed)?;
            (State::Discoverable { state }, WebAuthn::Get(options))
        }
    };
    let stored = StoredCeremony {
        id: ceremony.id.clone(),
        state: serde_json::to_string(&state).expect("ceremony state serialises"),
        options: serde_json::to_string(&options).expect("options serialise"),
        expires_at,
    };
    Ok((stored, options))
}

/// The browser options of stored ceremonies.
pub async fn options(app: &AppState, ids: &[&str], now: Timestamp) -> Result<BTreeMap<String, WebAuthn>, JourneyError> {
    let mut found = BTreeMap::new();
    for id in ids {
        if let Some(text) = app.store.ceremony_options(id, now).await? {
            let options =
                serde_json::from_str(&text).map_err(|e| JourneyError::Passkeys(format!("stored options: {e}")))?;
            found.insert((*id).to_owned(), options);
        }
    }
    Ok(found)
}

/// Takes `ceremony` (it can be answered once) and verifies `credential`, the JSON the
/// browser produced. For a discoverable sign-in, also returns the account it names.
pub async fn finish(
    app: &AppState,
    webauthn: &Webauthn,
    ceremony: &Ceremony,
    credential: &str,
    now: Timestamp,
) -> Result<(CeremonyOutcome, Option<User>), JourneyError> {
    let failed = |f: CeremonyFailure| Ok((CeremonyOutcome::Failed(f), None));
    // Ceremonies live as long as their flow, which is live: gone means another request
    // about the flow took it first, and that one decides the step.
    let Some(state) = app.store.take_ceremony(&ceremony.id, now).await? else {
        return Err(JourneyError::Conflict);
    };
    let state: State =
        serde_json::from_str(&state).map_err(|e| JourneyError::Passkeys(format!("stored ceremony: {e}")))?;
    match state {
        State::Register { state } => {
            let Ok(answer) = serde_json::from_str::<RegisterPublicKeyCredential>(credential) else {
                return failed(CeremonyFailure::Malformed);
            };
            let passkey = match webauthn.finish_passkey_registration(&answer, &state) {
                Ok(p) => p,
                Err(e) => return failed(failure(&e)),
            };
            let cred_id = b64url(passkey.cred_id());
            // Credential IDs are unique across accounts (the store enforces it too).
            if app.store.passkey(&cred_id).await?.is_some() {
                return failed(CeremonyFailure::AlreadyRegistered);
            }
            let passkey = serde_json::to_string(&passkey).expect("passkey serialises");
            Ok((CeremonyOutcome::Registered { cred_id, passkey }, None))
        }
        State::Authenticate { user_id, state } => {
            let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
                return failed(CeremonyFailure::Malformed);
            };
            let cred_id = b64url(&answer.raw_id);
            let Some(stored) = app.store.passkey(&cred_id).await?.filter(|p| p.user_id == user_id) else {
                return failed(CeremonyFailure::UnknownCredential);
            };
            let mut passkey = parse(&stored.passkey)?;
            match webauthn.finish_passkey_authentication(&answer, &state) {
                Ok(result) => {
                    let updated = (passkey.update_credential(&result) == Some(true))
                        .then(|| serde_json::to_string(&passkey).expect("passkey serialises"));
                    Ok((CeremonyOutcome::Asserted { user_id, cred_id, updated }, None))
                }
                Err(e) => failed(failure(&e)),
            }
        }
        State::Discoverable { state } => {
            let Ok(answer) = serde_json::from_str::<PublicKeyCredential>(credential) else {
                return failed(CeremonyFailure::Malformed);
            };
            let Ok((handle, raw_id)) = webauthn.identify_discoverable_authentication(&answer) else {
                return failed(CeremonyFailure::Malformed);
            };
            let cred_id = b64url(raw_id);
            // The user handle is not signed: the credential decides whose passkey it is.
            let Some(stored) = app.store.passkey(&cred_id).await?.filter(|p| p.user_id == handle.to_string()) else {
                return failed(CeremonyFailure::UnknownCredential);
            };
            let mut passkey = parse(&stored.passkey)?;
            match webauthn.finish_discoverable_authentication_v2(&answer, state, &passkey) {
                Ok(result) => {
                    let updated = (passkey.update_credential(&result) == Some(true))
                        .then(|| serde_json::to_string(&passkey).expect("passkey serialises"));
                    let user = app.store.user_by_id(&stored.user_id).await?;
                    Ok((CeremonyOutcome::Asserted { user_id: stored.user_id, cred_id, updated }, user))
                }
                Err(e) => failed(failure(&e)),
            }
        }
    }
}

fn failure(e: &WebauthnError) -> CeremonyFailure {
    tracing::debug!(error = %e, "WebAuthn verification failed");
    match e {
        WebauthnError::CredentialPossibleCompromise => CeremonyFailure::PossibleClone,
        WebauthnError::CredentialNotFound => CeremonyFailure::UnknownCredential,
        _ => CeremonyFailure::Invalid,
    }
}

async fn passkeys_of(app: &AppState, user_id: &str) -> Result<Vec<Passkey>, JourneyError> {
    app.store.passkeys_of(user_id).await?.iter().map(|p| parse(&p.passkey)).collect()
}

fn parse(stored: &str) -> Result<Passkey, JourneyError> {
    serde_json::from_str(stored).map_err(|e| JourneyError::Passkeys(format!("stored passkey: {e}")))
}

/// The WebAuthn user handle of an account: its id (a UUID, not a secret).
fn user_handle(user_id: &str) -> Result<Uuid, JourneyError> {
    Uuid::parse_str(user_id).map_err(|_| JourneyError::Passkeys(format!("user id {user_id} is not a UUID")))
}
