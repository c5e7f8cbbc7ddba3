//! The schema's migrations, named once for both stores: `migrations/sqlite/` and
//! `migrations/postgres/` hold a file of each name, and a test checks that this list
//! and the two folders agree, so neither store can miss one.
//!
//! Why not `sqlx::migrate!`: its proc macro compiled a second copy of sqlx, tokio,
//! rustls and aws-lc for the build host (some 160 crates, aws-lc's C among them), in
//! every build profile. `include_str!` embeds the same files; the checksums sqlx records
//! are computed from the same text, so databases migrated by the macro stay valid.

use std::borrow::Cow;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

macro_rules! migrations {
    ($($name:literal),* $(,)?) => {
        /// (file name without `.sql`, SQLite text), in order.
        pub(super) const SQLITE: &[(&str, &str)] =
            &[$(($name, include_str!(concat!("../../migrations/sqlite/", $name, ".sql")))),*];
        /// (file name without `.sql`, PostgreSQL text), in order.
        pub(super) const POSTGRES: &[(&str, &str)] =
            &[$(($name, include_str!(concat!("../../migrations/postgres/", $name, ".sql")))),*];
    };
}

migrations![
    "0001_init",
    "0002_passkeys",
    "0003_oidc",
    "0004_devices",
    "0005_passwords",
    "0006_totp",
    "0007_enrollment_skips",
    "0008_limits_and_retention",
    "0009_hooks",
    "0010_accounts_and_groups",
    "0011_session_devices",
    "0012_mail_queue",
    "0013_known_devices_last_seen",
];

/// PostgreSQL's migrations as sqlx runs them: version and description from the file
/// name, as `sqlx::migrate!` took them (`0012_mail_queue` → 12, "mail queue").
pub(super) fn postgres() -> Migrator {
    let migrations = POSTGRES
        .iter()
        .map(|(name, sql)| {
            let (version, description) = name.split_once('_').expect("migration names are NNNN_description");
            Migration::new(
                version.parse().expect("migration names start with their version"),
                Cow::Owned(description.replace('_', " ")),
                MigrationType::Simple,
                SqlStr::from_static(sql),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn files(store: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(store);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("the migrations folder reads")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_list_names_every_file_in_both_folders_in_order() {
        let listed: Vec<String> = super::SQLITE.iter().map(|(name, _)| format!("{name}.sql")).collect();
        assert_eq!(listed, files("sqlite"));
        assert_eq!(listed, files("postgres"));
    }

    #[test]
    fn versions_count_up_from_one_as_sqlx_reads_them() {
        let migrator = super::postgres();
        let versions: Vec<i64> = migrator.iter().map(|m| m.version).collect();
        assert_eq!(versions, (1..=super::POSTGRES.len() as i64).collect::<Vec<_>>());
        let last = migrator.iter().last().expect("migrations");
        assert_eq!(last.description, "known devices last seen");
    }
}
