//! One field: a labelled input, checkbox or select, with its error bound to it
//! (`aria-invalid`, `aria-describedby`).

use leptos::prelude::*;
use passway_protocol::{Field, FieldType, FieldValue};

pub fn view(remediation: &str, f: Field, error: Option<String>) -> AnyView {
    let id = format!("pw-{remediation}-{}", f.name);
    let error_id = format!("{id}-error");
    let invalid = if error.is_some() { "true" } else { "false" };
    let described_by = error.is_some().then(|| error_id.clone());
    let error = error.map(|e| view! { <p class="pw-field-error" id=error_id>{e}</p> });
    let text_value = match &f.value {
        Some(FieldValue::Text(t)) => t.clone(),
        _ => String::new(),
    };
    match f.kind {
        FieldType::Hidden => view! { <input type="hidden" name=f.name value=text_value /> }.into_any(),
        FieldType::Boolean => {
            let checked = matches!(f.value, Some(FieldValue::Bool(true)));
            view! {
                <div class="pw-field">
                    <label class="pw-check">
                        <input type="checkbox" id=id name=f.name checked=checked required=f.required
                            aria-invalid=invalid aria-describedby=described_by />
                        <span>{f.label}</span>
                    </label>
                    {error}
                </div>
            }
            .into_any()
        }
        FieldType::Select => {
            let options = f
                .options
                .into_iter()
                .map(|o| {
                    let selected = o.value == text_value;
                    view! { <option value=o.value selected=selected>{o.label}</option> }
                })
                .collect_view();
            view! {
                <div class="pw-field">
                    <label class="pw-label" for=id.clone()>{f.label}</label>
                    <select class="pw-select" id=id name=f.name required=f.required aria-invalid=invalid aria-describedby=described_by>
                        <option value=""></option>
                        {options}
                    </select>
                    {error}
                </div>
            }
            .into_any()
        }
        kind => {
            let (input_type, class) = match kind {
                FieldType::Email => ("email", "pw-input"),
                FieldType::Password => ("password", "pw-input"),
                FieldType::Otp => ("text", "pw-input pw-input--code"),
                _ => ("text", "pw-input"),
            };
            view! {
                <div class="pw-field">
                    <label class="pw-label" for=id.clone()>{f.label}</label>
                    <input class=class id=id name=f.name type=input_type value=text_value
                        autocomplete=f.autocomplete inputmode=f.input_mode
                        maxlength=f.max_length.map(|n| n.to_string()) minlength=f.min_length.map(|n| n.to_string())
                        pattern=f.pattern
                        required=f.required readonly=f.read_only aria-invalid=invalid aria-describedby=described_by />
                    {error}
                </div>
            }
            .into_any()
        }
    }
}
