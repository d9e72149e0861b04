use frontdesk::config::{DatabaseSettings, Secret, Settings};
use frontdesk::db::{revert_all_migrations, run_migrations, Db};

use crate::both_backends;
use crate::helpers::{Backend, TestDatabase};

both_backends!(every_migration_runs_up_down_and_up_again);

async fn every_migration_runs_up_down_and_up_again(backend: Backend) {
    tokio::task::spawn_blocking(move || {
        let database = TestDatabase::new(backend);
        let settings = DatabaseSettings {
            url: Secret::new(database.url.clone()),
            ..Settings::default().database
        };
        let db = Db::connect(&settings).expect("connect");
        let mut conn = db.get().expect("connection");

        let applied = run_migrations(&mut conn).expect("up");
        assert!(applied >= 1);
        let reverted = revert_all_migrations(&mut conn).expect("down");
        assert_eq!(reverted, applied);
        let again = run_migrations(&mut conn).expect("up again");
        assert_eq!(again, applied);
        assert_eq!(run_migrations(&mut conn).expect("nothing pending"), 0);
    })
    .await
    .expect("join");
}
