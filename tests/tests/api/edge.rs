//! What a deployment behind the edge (CloudFront and its firewall) adds:
//! the origin refuses whatever did not come through it.

use conduit_tests::spawn_app_with;

const CURRENT: &str = "the-current-origin-secret";
const PREVIOUS: &str = "the-previous-origin-secret";
/// `ORIGIN_VERIFY_SHA256` as the deploy sets it: the digests (SHA-256, hex)
/// of the current secret, then the previous one, never the secrets.
const DIGESTS: &str = "a25ba3f9311bc4c9e22b1aa6fcd225fd2e6933188a5b77df66c9c4ca2488db05,\
                       6f536d1a55f1e360154bfc034cdfa0a1ccc36d9bbbb0dc83b36be70f00d86ae6";

#[tokio::test]
async fn a_closed_origin_serves_only_requests_carrying_a_current_origin_secret() {
    let app = spawn_app_with(&[("ORIGIN_VERIFY_SHA256", DIGESTS)]).await;

    // Straight to the execute-api URL: no secret, or a wrong one.
    for headers in [vec![], vec![("x-origin-verify", "guess")]] {
        let refused = app.get_with("/api/tags", &headers).await;
        assert_eq!(refused.status, 403, "{headers:?}");
        assert_eq!(refused.error("origin"), "forbidden");
        assert_eq!(refused.header("cache-control"), Some("no-store"));
    }

    // Through CloudFront, during a rotation: edges still sending the
    // previous secret are served as well as those sending the new one.
    for secret in [CURRENT, PREVIOUS] {
        let served = app
            .get_with("/api/tags", &[("x-origin-verify", secret)])
            .await;
        assert_eq!(served.status, 200, "{secret}");
    }
}

#[tokio::test]
async fn an_open_origin_is_the_default() {
    let app = conduit_tests::spawn_app().await;
    assert_eq!(app.get("/api/tags", None).await.status, 200);
}
