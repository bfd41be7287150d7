//! Encode/decode of a resync Pkg#1 in XML and WBXML, and one whole
//! in-memory resync session (client and server machines, MD5 scheme).
//! Run: cargo bench -p dmnonce-syncml --bench pkg1

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use dmnonce_syncml::*;

fn client_params(encoding: Encoding) -> ClientParams {
    ClientParams {
        server_id: "dm.example.net".into(),
        client_name: "device-1".into(),
        server_uri: "https://dm.example.net/dm".into(),
        client_secret: Secret::new(b"client-secret".to_vec()),
        server_secret: Secret::new(b"server-secret".to_vec()),
        session_id: 0x0A0B,
        session_id_format: SessionIdFormat::HexUpper,
        encoding,
        scheme: AuthScheme::Md5,
        default_nonce: DefaultNonce::Text,
        dev_info: DevInfo {
            dev_id: "IMEI:490154203237518".into(),
            man: "dmnonce".into(),
            model: "bench".into(),
            dm_v: "1.2".into(),
            lang: "en-US".into(),
        },
        max_msg_size: Some(16_384),
        server_secret_uri: None,
    }
}

fn server_params() -> ServerParams {
    ServerParams {
        server_id: "dm.example.net".into(),
        server_uri: "https://dm.example.net/dm".into(),
        client_name: "device-1".into(),
        client_secret: Secret::new(b"client-secret".to_vec()),
        server_secret: Secret::new(b"server-secret".to_vec()),
        session_id: 0x0A0B,
        session_id_format: None,
        scheme: AuthScheme::Md5,
        nonces: StartingNonces::Default(DefaultNonce::Text),
        management: Vec::new(),
        rotate_server_secret: None,
        max_commands_per_message: None,
    }
}

fn session(encoding: Encoding) -> bool {
    let (mut c, mut out) = ClientSession::start(client_params(encoding), [1; 16]).unwrap();
    let mut s = ServerSession::new(server_params());
    for i in 0..4u8 {
        let reply = match s.on_request(&out.body, out.hmac_header.as_deref(), [i; 16]) {
            ServerStep::Reply { out, .. } | ServerStep::Finish { out, .. } => out,
            ServerStep::Failed { .. } => return false,
        };
        match c.on_response(&reply.body, reply.hmac_header.as_deref(), [i + 9; 16]) {
            Step::Send(o) | Step::CommitThenSend(_, o) => out = o,
            Step::Done(_) => return true,
            Step::Failed(_) => return false,
        }
    }
    false
}

fn bench(c: &mut Criterion) {
    for (name, enc) in [("xml", Encoding::Xml), ("wbxml", Encoding::Wbxml)] {
        let (_, pkg1) = ClientSession::start(client_params(enc), [0; 16]).unwrap();
        let msg = decode(&pkg1.body).unwrap().0;
        eprintln!("pkg1 {name}: {} bytes", pkg1.body.len());
        c.bench_function(&format!("pkg1_encode_{name}"), |b| {
            b.iter(|| encode(black_box(&msg), enc).unwrap())
        });
        c.bench_function(&format!("pkg1_decode_{name}"), |b| {
            b.iter(|| decode(black_box(&pkg1.body)).unwrap())
        });
        assert!(session(enc));
        c.bench_function(&format!("resync_session_md5_{name}"), |b| {
            b.iter(|| assert!(session(enc)))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
