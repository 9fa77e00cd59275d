//! The client against a real Bolt server (ArcadeDB, `scripts/arcadedb
//! start`, its `switchboard` database): what a driver must get right beyond
//! the happy path. Failing, never skipping, when the server does not answer.

use super::*;

fn client(size: usize) -> Client {
    let port = std::env::var("SWITCHBOARD_TEST_BOLT_PORT").unwrap_or_else(|_| "17687".into());
    let password = std::env::var("SWITCHBOARD_TEST_BOLT_PASSWORD").unwrap_or_else(|_| "switchboard-test".into());
    let target =
        Target::parse(&format!("bolt://127.0.0.1:{port}"), "root", &password, Some("switchboard".into())).unwrap();
    Client::new(target, size)
}

/// A label no other test run uses.
fn label() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("BoltTest{}x{}", std::process::id(), nanos % 1_000_000_000)
}

#[tokio::test]
async fn parameters_of_every_kind_and_size_come_back_as_sent() {
    let c = client(1);
    // Larger than a chunk (64 KiB), so requests and records span several.
    let big = "é".repeat(100_000);
    let rows = c
        .rows(
            &query("RETURN $s AS s, $i AS i, $n AS n, $b AS b, $l AS l, $f AS f")
                .param("s", big.as_str())
                .param("i", -5_000_000_000i64)
                .param("n", Option::<String>::None)
                .param("b", true)
                .param("l", vec!["a", "b"])
                .param("f", 0.25f64),
        )
        .await
        .unwrap();
    let r = &rows[0];
    assert_eq!(r.get::<String>("s").unwrap(), big);
    assert_eq!(r.get::<i64>("i").unwrap(), -5_000_000_000);
    assert_eq!(r.get::<Option<String>>("n").unwrap(), None);
    assert!(r.get::<bool>("b").unwrap());
    assert_eq!(r.get::<Vec<String>>("l").unwrap(), ["a", "b"]);
    assert_eq!(r.get::<f64>("f").unwrap(), 0.25);
    let missing = r.get::<String>("nope").unwrap_err().to_string();
    assert!(missing.contains("no column \"nope\""), "{missing}");
}

#[tokio::test]
async fn a_refused_statement_is_its_servers_error_and_the_connection_goes_on() {
    // One connection: what follows the failure runs on the same one.
    let c = client(1);
    let err = c.rows(&query("THIS IS NOT CYPHER")).await.unwrap_err();
    assert!(matches!(err, Error::Failure { .. }), "{err:?}");
    assert!(!err.is_transient());
    let rows = c.rows(&query("RETURN 1 AS one")).await.unwrap();
    assert_eq!(rows[0].get::<i64>("one").unwrap(), 1);
}

#[tokio::test]
async fn a_transaction_that_fails_part_way_writes_nothing() {
    let c = client(1);
    let label = label();
    let err = c
        .transaction(&[
            query(&format!("CREATE (:{label} {{n: 1}})")),
            query("THIS IS NOT CYPHER"),
            query(&format!("CREATE (:{label} {{n: 2}})")),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Failure { .. }), "{err:?}");
    let count = query(&format!("MATCH (x:{label}) RETURN count(x) AS n"));
    assert_eq!(c.rows(&count).await.unwrap()[0].get::<i64>("n").unwrap(), 0, "rolled back");
    // The same connection commits the next one, and returns its last statement's rows.
    let rows = c
        .transaction(&[
            query(&format!("CREATE (:{label} {{n: 1}})")),
            query(&format!("UNWIND $ns AS n CREATE (x:{label} {{n: n}}) RETURN x.n AS n")).param("ns", vec![2i64, 3]),
        ])
        .await
        .unwrap();
    let mut created: Vec<i64> = rows.iter().map(|r| r.get("n").unwrap()).collect();
    created.sort();
    assert_eq!(created, [2, 3]);
    assert_eq!(c.rows(&count).await.unwrap()[0].get::<i64>("n").unwrap(), 3);
    c.rows(&query(&format!("MATCH (x:{label}) DELETE x"))).await.unwrap();
}

#[tokio::test]
async fn rows_stream_to_the_caller_who_may_stop_early() {
    let c = client(1);
    let q = query("UNWIND range(1, 5000) AS i RETURN i");
    let mut seen = 0;
    let err = c
        .each_row(&q, |row| {
            seen += 1;
            if row.get::<i64>("i")? == 10 { Err(Error::Stopped) } else { Ok(()) }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Stopped));
    assert_eq!(seen, 10);
    // The half-read connection was closed, not handed out again.
    assert_eq!(c.rows(&q).await.unwrap().len(), 5000);
}

#[tokio::test]
async fn a_wrong_password_is_refused_clearly() {
    let port = std::env::var("SWITCHBOARD_TEST_BOLT_PORT").unwrap_or_else(|_| "17687".into());
    let target = Target::parse(&format!("bolt://127.0.0.1:{port}"), "root", "wrong", None).unwrap();
    let err = Client::new(target, 1).rows(&query("RETURN 1 AS one")).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_callers_share_a_few_connections() {
    let c = client(3);
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.rows(&query("RETURN $i AS i").param("i", i)).await }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap().unwrap()[0].get::<i64>("i").unwrap(), i as i64);
    }
    assert!(c.idle.lock().unwrap().len() <= 3);
}
