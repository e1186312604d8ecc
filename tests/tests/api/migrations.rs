//! Data migrations: items written the old way get what the code now needs;
//! a run interrupted midway resumes where it stopped, and a finished one is
//! a no-op.

use conduit_common::db::keys;
use conduit_common::db::migrations::{MIGRATIONS, PAGE_ITEMS};
use conduit_common::db::{key_of, s};
use conduit_tests::{TestApp, spawn_app};

/// Follows and comments as they were written before their indexes: keys
/// and attributes, no `GSI2PK`.
async fn seed_the_old_way(app: &TestApp, followee: &str, follows: usize) {
    let mut items = vec![];
    for n in 0..follows {
        items.push(key_of(keys::follow(
            &format!("old-follower-{n:04}"),
            followee,
        )));
    }
    for id in 1..=3 {
        let mut comment = key_of(keys::comment("old-article", id));
        comment.insert("author_id".into(), s(followee));
        comment.insert("body".into(), s("written before the index"));
        items.push(comment);
    }
    app.state.db.put_all(items).await.unwrap();
}

#[tokio::test]
async fn a_migration_resumes_after_an_interruption_and_then_does_nothing() {
    let app = spawn_app().await;
    app.register("followee").await;
    let followee = app.user("followee").await.id;
    // More than one scan page of them.
    let follows = PAGE_ITEMS as usize * 2 + 100;
    seed_the_old_way(&app, &followee, follows).await;
    let db = &app.state.db;
    assert_eq!(db.followers(&followee).await.unwrap().len(), 0);

    // Interrupted after its first page.
    let mut pages = 0;
    let first = db
        .migrate(MIGRATIONS, &mut || {
            pages += 1;
            pages > 1
        })
        .await
        .unwrap();
    assert!(first.interrupted);
    assert!(first.finished.is_empty());
    let listed = db.followers(&followee).await.unwrap().len();
    assert!(listed > 0 && listed < follows, "{listed} after one page");
    let progress = db.progress(MIGRATIONS[0].id).await.unwrap();
    assert!(progress.cursor.is_some() && progress.finished_at.is_none());

    // Resumed: the rest, nothing twice.
    let second = db.migrate(MIGRATIONS, &mut || false).await.unwrap();
    assert!(!second.interrupted);
    let ids: Vec<&str> = MIGRATIONS.iter().map(|m| m.id).collect();
    assert_eq!(second.finished, ids);
    assert_eq!(db.followers(&followee).await.unwrap().len(), follows);
    assert_eq!(first.changed + second.changed, follows as u64 + 3);
    let comments = db.progress(MIGRATIONS[1].id).await.unwrap();
    assert_eq!(comments.changed, 3);
    assert!(comments.finished_at.is_some());

    // The comments are found by author, as an account's deletion does.
    app.state
        .db
        .clean_up_user(&app.user("followee").await)
        .await
        .unwrap();
    let left = db
        .client
        .query()
        .table_name(&db.table)
        .key_condition_expression("PK = :pk")
        .expression_attribute_values(":pk", s(keys::article("old-article").0))
        .send()
        .await
        .unwrap();
    assert_eq!(left.count, 0, "the old comments were found and removed");

    // Finished: a no-op, without scanning again.
    let third = db.migrate(MIGRATIONS, &mut || false).await.unwrap();
    assert_eq!(third, Default::default());
}
