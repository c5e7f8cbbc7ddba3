//! The system log's `filter`: Okta's subset of SCIM filters. Comparisons `eq`, `sw`
//! (starts with) and `co` (contains) of an attribute to a quoted string, joined by `and`
//! and `or` (`and` binds tighter), grouped by parentheses:
//!
//! ```text
//! eventType eq "user.session.start" and (outcome.result eq "FAILURE" or severity eq "WARN")
//! ```
//!
//! Comparisons ignore ASCII case (email addresses and enum values alike). A malformed
//! filter is an error that says where, by character offset.

use serde_json::Value;

/// The attributes a filter may name, and where each is in a LogEvent.
pub const ATTRIBUTES: &[&str] = &[
    "eventType",
    "outcome.result",
    "actor.id",
    "actor.alternateId",
    "target.id",
    "target.type",
    "target.alternateId",
    "severity",
    "client.ipAddress",
    "request.ipChain.ip",
    "transaction.id",
    "outcome.reason",
    "displayMessage",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Compare { attribute: &'static str, op: Op, value: String },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    StartsWith,
    Contains,
}

/// Where a filter went wrong: the character offset and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("filter: at character {at}: {message}")]
pub struct FilterError {
    pub at: usize,
    pub message: String,
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, next: 0, end: text.chars().count() };
        let filter = parser.or()?;
        match parser.peek() {
            None => Ok(filter),
            Some((at, token)) => {
                Err(FilterError { at, message: format!("expected and, or or the end, found {token}") })
            }
        }
    }

    pub fn matches(&self, event: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.matches(event) && b.matches(event),
            Filter::Or(a, b) => a.matches(event) || b.matches(event),
            Filter::Compare { attribute, op, value } => values(event, attribute).any(|v| compare(v, *op, value)),
        }
    }
}

fn compare(actual: &str, op: Op, wanted: &str) -> bool {
    let (actual, wanted) = (actual.to_ascii_lowercase(), wanted.to_ascii_lowercase());
    match op {
        Op::Eq => actual == wanted,
        Op::StartsWith => actual.starts_with(&wanted),
        Op::Contains => actual.contains(&wanted),
    }
}

/// The attribute's values in an event: a path through an array takes every element
/// (`target.id`: one per target; `request.ipChain.ip`: one per address).
fn values<'e>(event: &'e Value, attribute: &str) -> Box<dyn Iterator<Item = &'e str> + 'e> {
    let mut at: Vec<&'e Value> = vec![event];
    for part in attribute.split('.') {
        at = at
            .into_iter()
            .flat_map(|v| match v {
                Value::Array(items) => items.iter().map(|i| &i[part]).collect::<Vec<_>>(),
                other => vec![&other[part]],
            })
            .collect();
    }
    Box::new(at.into_iter().flat_map(|v| match v {
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
        other => other.as_str().into_iter().collect(),
    }))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(w) => write!(f, "{w}"),
            Token::Text(t) => write!(f, "{t:?}"),
            Token::Open => f.write_str("("),
            Token::Close => f.write_str(")"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = vec![];
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push((i, Token::Open));
                i += 1;
            }
            ')' => {
                tokens.push((i, Token::Close));
                i += 1;
            }
            '"' => {
                let start = i;
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(FilterError { at: start, message: "a string that never ends".into() }),
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(&escaped @ ('"' | '\\')) => {
                                value.push(escaped);
                                i += 2;
                            }
                            _ => {
                                return Err(FilterError { at: i, message: "only \\\" and \\\\ may be escaped".into() });
                            }
                        },
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                i += 1;
                tokens.push((start, Token::Text(value)));
            }
            c if c.is_ascii_alphanumeric() || c == '.' || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_') {
                    i += 1;
                }
                tokens.push((start, Token::Word(chars[start..i].iter().collect())));
            }
            other => return Err(FilterError { at: i, message: format!("unexpected {other:?}") }),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<(usize, &Token)> {
        self.tokens.get(self.next).map(|(at, t)| (*at, t))
    }

    fn take(&mut self, expected: &str) -> Result<(usize, Token), FilterError> {
        let token = self
            .tokens
            .get(self.next)
            .cloned()
            .ok_or_else(|| FilterError { at: self.end, message: format!("expected {expected}, found the end") })?;
        self.next += 1;
        Ok(token)
    }

    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some((_, Token::Word(w))) if w.eq_ignore_ascii_case(word));
        if found {
            self.next += 1;
        }
        found
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let (at, token) = self.take("an attribute or (")?;
        match token {
            Token::Open => {
                let inner = self.or()?;
                match self.take(")")? {
                    (_, Token::Close) => Ok(inner),
                    (at, other) => Err(FilterError { at, message: format!("expected ), found {other}") }),
                }
            }
            Token::Word(name) => {
                let attribute = ATTRIBUTES.iter().copied().find(|a| *a == name).ok_or_else(|| FilterError {
                    at,
                    message: format!("unknown attribute {name:?}; one of {}", ATTRIBUTES.join(", ")),
                })?;
                let op = match self.take("eq, sw or co")? {
                    (_, Token::Word(w)) if w.eq_ignore_ascii_case("eq") => Op::Eq,
                    (_, Token::Word(w)) if w.eq_ignore_ascii_case("sw") => Op::StartsWith,
                    (_, Token::Word(w)) if w.eq_ignore_ascii_case("co") => Op::Contains,
                    (at, other) => {
                        return Err(FilterError { at, message: format!("expected eq, sw or co, found {other}") });
                    }
                };
                match self.take("a quoted string")? {
                    (_, Token::Text(value)) => Ok(Filter::Compare { attribute, op, value }),
                    (at, other) => Err(FilterError { at, message: format!("expected a quoted string, found {other}") }),
                }
            }
            other => Err(FilterError { at, message: format!("expected an attribute or (, found {other}") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};
    use serde_json::json;

    use super::Filter;

    /// Parses `filter` and shows, for each sample event, whether it matched; or the error.
    fn check(filter: &str, expected: Expect) {
        let events = [
            json!({"eventType": "user.session.start", "severity": "INFO", "outcome": {"result": "SUCCESS"},
                   "actor": {"id": "u1", "alternateId": "Ann@Example.com"}, "target": [{"id": "u1"}, {"id": "demo"}],
                   "client": {"ipAddress": "10.0.0.1"}, "transaction": {"id": "f1"}}),
            json!({"eventType": "user.authentication.verify", "severity": "WARN", "outcome": {"result": "FAILURE"},
                   "actor": {"id": "unknown", "alternateId": "bob@corp.example"}, "target": [{"id": "shop", "type": "AppInstance", "alternateId": "shop"}],
                   "client": {"ipAddress": "192.0.2.7"}, "request": {"ipChain": [{"ip": "192.0.2.7"}, {"ip": "10.9.9.9"}]}, "transaction": {"id": null}}),
        ];
        let actual = match Filter::parse(filter) {
            Ok(f) => events.iter().map(|e| if f.matches(e) { "match" } else { "-" }).collect::<Vec<_>>().join(" "),
            Err(e) => e.to_string(),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn comparisons() {
        check(r#"eventType eq "user.session.start""#, expect!["match -"]);
        check(r#"eventType sw "user.""#, expect!["match match"]);
        check(r#"actor.alternateId co "EXAMPLE""#, expect!["match match"]);
        check(r#"actor.alternateId eq "ann@example.com""#, expect!["match -"]);
        check(r#"target.id eq "demo""#, expect!["match -"]);
        check(r#"target.type eq "AppInstance""#, expect!["- match"]);
        check(r#"request.ipChain.ip eq "10.9.9.9""#, expect!["- match"]);
        check(r#"client.ipAddress sw "192.0.2.""#, expect!["- match"]);
        check(r#"transaction.id eq "f1""#, expect!["match -"]);
        check(r#"severity eq "warn""#, expect!["- match"]);
    }

    #[test]
    fn logic() {
        check(r#"outcome.result eq "FAILURE" or severity eq "INFO""#, expect!["match match"]);
        check(r#"eventType sw "user" and outcome.result eq "SUCCESS""#, expect!["match -"]);
        // `and` binds tighter than `or`.
        check(r#"actor.id eq "x" and severity eq "INFO" or target.id eq "shop""#, expect!["- match"]);
        check(r#"actor.id eq "u1" AND (severity eq "WARN" OR target.id eq "demo")"#, expect!["match -"]);
        check(r#"((eventType co "verify"))"#, expect!["- match"]);
    }

    #[test]
    fn errors_say_where() {
        check(r#"eventType ne "x""#, expect![[r#"filter: at character 10: expected eq, sw or co, found ne"#]]);
        check(
            r#"password eq "x""#,
            expect![[
                r#"filter: at character 0: unknown attribute "password"; one of eventType, outcome.result, actor.id, actor.alternateId, target.id, target.type, target.alternateId, severity, client.ipAddress, request.ipChain.ip, transaction.id, outcome.reason, displayMessage"#
            ]],
        );
        check(r#"eventType eq "x"#, expect!["filter: at character 13: a string that never ends"]);
        check(r#"(eventType eq "x""#, expect!["filter: at character 17: expected ), found the end"]);
        check(
            r#"eventType eq "x" severity"#,
            expect!["filter: at character 17: expected and, or or the end, found severity"],
        );
        check(r#"eventType eq x"#, expect!["filter: at character 13: expected a quoted string, found x"]);
        check(r#"eventType eq "x" and"#, expect!["filter: at character 20: expected an attribute or (, found the end"]);
        check(r#"eventType = "x""#, expect![[r#"filter: at character 10: unexpected '='"#]]);
        check("", expect!["filter: at character 0: expected an attribute or (, found the end"]);
    }
}
