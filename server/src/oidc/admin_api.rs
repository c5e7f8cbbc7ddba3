//! The admin API as an OAuth resource: its resource indicator and the scopes a
//! `client_credentials` token carries for it (checked per route by `http/admin`).

/// What an admin token may do, as `client_credentials` scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    UsersRead,
    UsersManage,
    GroupsManage,
    LogsRead,
    HooksManage,
    ConfigRead,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::UsersRead,
        Scope::UsersManage,
        Scope::GroupsManage,
        Scope::LogsRead,
        Scope::HooksManage,
        Scope::ConfigRead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::UsersRead => "passway.users.read",
            Scope::UsersManage => "passway.users.manage",
            Scope::GroupsManage => "passway.groups.manage",
            Scope::LogsRead => "passway.logs.read",
            Scope::HooksManage => "passway.hooks.manage",
            Scope::ConfigRead => "passway.config.read",
        }
    }

    /// A scope that also grants this one (managing users includes reading them).
    pub fn implied_by(self) -> Option<Scope> {
        (self == Scope::UsersRead).then_some(Scope::UsersManage)
    }
}

/// Whether `name` is one of the admin API's scopes.
pub fn is_admin_scope(name: &str) -> bool {
    Scope::ALL.iter().any(|s| s.name() == name)
}

/// The resource indicator (RFC 8707) of the admin API: the `aud` of its tokens.
pub fn resource(issuer: &str) -> String {
    format!("{issuer}/api/v1/admin")
}
