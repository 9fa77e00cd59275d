//! Opening the graph where no server answers fails within the configured
//! timeout with a message naming the server, instead of the Bolt client's
//! minute of silent retries. Needs no server.

use std::time::{Duration, Instant};

use switchboard_store_neo4j::{Fulltext, Neo4jGraph, Options};

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_within_the_timeout() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = Options {
        uri: format!("bolt://127.0.0.1:{port}"),
        user: "neo4j".into(),
        password: "secret".into(),
        database: None,
        max_connections: 2,
        query_timeout: Duration::from_secs(2),
        fulltext: Fulltext::Neo4j,
    };
    let started = Instant::now();
    let err = match Neo4jGraph::open(&options).await {
        Ok(_) => panic!("nothing listens on {port}"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&format!("Neo4j at bolt://127.0.0.1:{port}")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "gave up after {:?}", started.elapsed());
}
