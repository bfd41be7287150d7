//! Client and server resync machines driven against each other in memory.

mod common;

use common::*;
use dmnonce_syncml::model::{Command, Item, ItemCmd, OpaqueCmd, Results};
use dmnonce_syncml::*;

fn decoded(o: &Outgoing) -> SyncMl {
    decode(&o.body).expect("our own message decodes").0
}

fn header_status(m: &SyncMl) -> &Status {
    m.body
        .commands
        .iter()
        .find_map(|c| match c {
            Command::Status(s) if s.cmd_ref == 0 => Some(s),
            _ => None,
        })
        .expect("status for the header")
}

#[test]
fn resync_completes_for_both_encodings_and_both_schemes() {
    for (enc, scheme) in ALL_COMBOS {
        let t = drive(
            client_params(enc, scheme),
            server_params(scheme),
            |_, _, _| true,
        );
        let ctx = format!("{enc:?}/{scheme:?}");
        assert_eq!(t.messages.len(), 4, "{ctx}: Pkg#1..Pkg#4");
        let c = t
            .client_done
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.client_failed));
        let s = t
            .server_done
            .as_ref()
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.server_failed));
        // Both sides end with the same fresh nonces, all confirmed.
        assert_eq!(c.committed.client_nonce, s.committed.client_nonce, "{ctx}");
        assert_eq!(c.committed.server_nonce, s.committed.server_nonce, "{ctx}");
        assert!(c.committed.client_nonce.is_some() && c.committed.server_nonce.is_some());
        assert!(c.committed.confirmed.client_nonce && c.committed.confirmed.server_nonce);
        assert!(s.committed.confirmed.client_nonce && s.committed.confirmed.server_nonce);
        assert_ne!(c.committed.client_nonce, c.committed.server_nonce);
        assert_eq!(c.committed.server_secret, None);
        // What the caller persisted step by step adds up to the outcome.
        assert_eq!(fold(&t.client_commits), c.committed, "{ctx}");
        assert_eq!(fold(&t.server_commits), s.committed, "{ctx}");

        for (from, out) in &t.messages {
            assert_eq!(out.content_type, enc.content_type(), "{ctx}");
            assert_eq!(sniff(&out.body), Some(enc), "{ctx}");
            assert_eq!(
                out.hmac_header.is_some(),
                scheme == AuthScheme::Hmac,
                "{ctx} {from:?}"
            );
            let m = decoded(out);
            assert_eq!(m.hdr.cred.is_some(), scheme == AuthScheme::Md5, "{ctx}");
            assert_eq!(m.hdr.session_id, "A0B");
            assert!(m.body.final_);
        }
        // Pkg#1: default client nonce, Alert 1200, DevInfo.
        let pkg1 = decoded(&t.messages[0].1);
        if scheme == AuthScheme::Md5 {
            let cred = pkg1.hdr.cred.as_ref().unwrap();
            assert!(cred::verify_cred(
                cred,
                b"device-1",
                b"client-secret",
                b"0x00000000"
            ));
        } else {
            let h = t.messages[0].1.hmac_header.as_deref();
            assert!(hmac::verify(
                h,
                "device-1",
                b"client-secret",
                b"0x00000000",
                &t.messages[0].1.body
            )
            .is_ok());
        }
        assert!(matches!(&pkg1.body.commands[0], Command::Alert(a) if a.code == 1200));
        assert!(matches!(&pkg1.body.commands[1], Command::Replace(r) if r.items.len() == 5));
        // Pkg#2: 212 + Chal carrying the new client nonce.
        let pkg2 = decoded(&t.messages[1].1);
        let st = header_status(&pkg2);
        assert_eq!(st.code, 212);
        let chal = st.chal.as_ref().unwrap();
        assert_eq!(
            chal.meta.next_nonce.as_deref(),
            c.committed.client_nonce.as_ref().map(Nonce::as_bytes)
        );
        // Pkg#3: our Chal with the new server nonce.
        let pkg3 = decoded(&t.messages[2].1);
        let chal = header_status(&pkg3).chal.as_ref().unwrap();
        assert_eq!(
            chal.meta.next_nonce.as_deref(),
            c.committed.server_nonce.as_ref().map(Nonce::as_bytes)
        );
    }
}

#[test]
fn decimal_session_id_is_a_setting_the_server_accepts() {
    let mut cp = client_params(Encoding::Xml, AuthScheme::Md5);
    cp.session_id_format = SessionIdFormat::Decimal;
    let t = drive(cp.clone(), server_params(AuthScheme::Md5), |_, _, _| true);
    assert!(t.client_done.is_some(), "{:?}", t.client_failed);
    assert_eq!(decoded(&t.messages[0].1).hdr.session_id, "2571");
    // A server pinned to hex refuses the decimal form (2571 is not 0xA0B).
    let mut sp = server_params(AuthScheme::Md5);
    sp.session_id_format = Some(SessionIdFormat::HexUpper);
    let t = drive(cp, sp, |_, _, _| true);
    assert!(matches!(
        t.server_failed.unwrap().reason,
        FailureReason::Protocol(_)
    ));
}

#[test]
fn challenge_401_is_retried_once_with_the_challenged_nonce() {
    // The client verified Package #0 with the zero-bytes reading while the
    // server expects the text reading for the client nonce: 401 + Chal.
    for (enc, scheme) in ALL_COMBOS {
        let mut cp = client_params(enc, scheme);
        cp.default_nonce = DefaultNonce::Zero;
        let mut sp = server_params(scheme);
        sp.nonces = StartingNonces::Default(DefaultNonce::Zero);
        // Server nonce readings agree; only the client side is off.
        let t = drive(cp, sp.clone(), |i, _, m| {
            if i == 0 {
                // Re-sign Pkg#1 with the wrong reading of the client nonce.
                let signer_nonce = b"0x00000000";
                let mut msg = decode(&m.body).unwrap().0;
                msg.hdr.cred = (scheme == AuthScheme::Md5)
                    .then(|| cred::md5_cred(b"device-1", b"client-secret", signer_nonce));
                m.body = encode(&msg, enc).unwrap();
                if scheme == AuthScheme::Hmac {
                    m.hmac_header = Some(hmac::header_value(
                        "device-1",
                        b"client-secret",
                        signer_nonce,
                        &m.body,
                    ));
                }
            }
            true
        });
        assert_eq!(
            t.messages.len(),
            6,
            "{enc:?}/{scheme:?}: 401, retry, then Pkg#2..4"
        );
        let answer = decoded(&t.messages[1].1);
        assert_eq!(header_status(&answer).code, 401);
        assert!(header_status(&answer).chal.is_some());
        assert!(t.client_done.is_some(), "{:?}", t.client_failed);
        assert!(t.server_done.is_some(), "{:?}", t.server_failed);
    }
}

#[test]
fn missing_credentials_get_407_and_one_retry() {
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        let t = drive(
            client_params(enc, scheme),
            server_params(scheme),
            |i, _, m| {
                if i == 0 {
                    let mut msg = decode(&m.body).unwrap().0;
                    msg.hdr.cred = None;
                    m.body = encode(&msg, enc).unwrap();
                    m.hmac_header = None;
                }
                true
            },
        );
        assert_eq!(t.messages.len(), 6, "{ctx}: 407, retry, then Pkg#2..4");
        let answer = decoded(&t.messages[1].1);
        assert_eq!(header_status(&answer).code, 407, "{ctx}");
        assert!(header_status(&answer).chal.is_some(), "{ctx}");
        // The retry carries credentials again, in the session's scheme.
        let retry = &t.messages[2].1;
        assert_eq!(sniff(&retry.body), Some(enc), "{ctx}");
        assert_eq!(
            decoded(retry).hdr.cred.is_some(),
            scheme == AuthScheme::Md5,
            "{ctx}"
        );
        assert_eq!(
            retry.hmac_header.is_some(),
            scheme == AuthScheme::Hmac,
            "{ctx}"
        );
        assert!(t.client_done.is_some(), "{ctx}: {:?}", t.client_failed);
        assert!(t.server_done.is_some(), "{ctx}: {:?}", t.server_failed);
    }
}

#[test]
fn wrong_client_secret_fails_after_one_retry_and_commits_nothing() {
    for (enc, scheme) in ALL_COMBOS {
        let mut cp = client_params(enc, scheme);
        cp.client_secret = Secret::new(b"not-the-secret".to_vec());
        let t = drive(cp, server_params(scheme), |_, _, _| true);
        assert_eq!(t.messages.len(), 4, "Pkg#1, 401, retry, 401");
        let f = t.client_failed.expect("client fails");
        assert_eq!(f.reason, FailureReason::Rejected(401));
        assert!(f.committed.is_empty());
        let f = t.server_failed.expect("server fails");
        assert_eq!(f.reason, FailureReason::ClientCredentials("invalid"));
        assert!(f.committed.is_empty());
        assert!(t.client_commits.is_empty() && t.server_commits.is_empty());
    }
}

#[test]
fn wrong_server_credentials_abort_without_changing_any_nonce() {
    for (enc, scheme) in ALL_COMBOS {
        let mut sp = server_params(scheme);
        sp.server_secret = Secret::new(b"impostor".to_vec());
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert_eq!(t.messages.len(), 2);
        let f = t.client_failed.expect("client aborts");
        assert_eq!(f.reason, FailureReason::ServerCredentials("invalid"));
        assert!(f.committed.is_empty(), "{enc:?}/{scheme:?}");
        assert!(t.client_commits.is_empty());
    }
}

#[test]
fn server_credentials_must_use_the_new_server_nonce_in_pkg4() {
    // Pkg#4 re-signed with the default server nonce: the server did not
    // take our Chal. The client stops and reports exactly what it
    // committed: the new client nonce and the pending server nonce.
    for (enc, scheme) in ALL_COMBOS {
        let t = drive(
            client_params(enc, scheme),
            server_params(scheme),
            |i, _, m| {
                if i == 3 {
                    let mut msg = decode(&m.body).unwrap().0;
                    msg.hdr.cred = (scheme == AuthScheme::Md5).then(|| {
                        cred::md5_cred(SERVER_ID.as_bytes(), b"server-secret", b"0x00000000")
                    });
                    m.body = encode(&msg, enc).unwrap();
                    if scheme == AuthScheme::Hmac {
                        m.hmac_header = Some(hmac::header_value(
                            SERVER_ID,
                            b"server-secret",
                            b"0x00000000",
                            &m.body,
                        ));
                    }
                }
                true
            },
        );
        let f = t.client_failed.expect("client fails at Pkg#4");
        assert_eq!(f.reason, FailureReason::ServerCredentials("invalid"));
        assert_eq!(f.committed, fold(&t.client_commits));
        assert!(f.committed.client_nonce.is_some() && f.committed.server_nonce.is_some());
        assert!(f.committed.confirmed.client_nonce);
        assert!(!f.committed.confirmed.server_nonce, "never seen in use");
    }
}

#[test]
fn session_stopping_half_way_reports_exactly_the_committed_nonces() {
    // Cut after each message in turn: what each side handed out for
    // persisting is exactly the fold of its commits, never more.
    for (enc, scheme) in ALL_COMBOS {
        for cut in 0..4 {
            let ctx = format!("{enc:?}/{scheme:?} cut {cut}");
            let t = drive(
                client_params(enc, scheme),
                server_params(scheme),
                |i, _, _| i < cut,
            );
            assert_eq!(t.messages.len(), cut + 1, "{ctx}");
            let client = fold(&t.client_commits);
            let server = fold(&t.server_commits);
            match cut {
                0 | 1 => assert!(client.is_empty(), "{ctx}"),
                _ => {
                    assert!(
                        client.client_nonce.is_some() && client.server_nonce.is_some(),
                        "{ctx}"
                    );
                    assert!(!client.confirmed.server_nonce, "{ctx}");
                }
            }
            match cut {
                0 => assert!(server.is_empty(), "{ctx}"),
                1 | 2 => {
                    assert!(server.client_nonce.is_some(), "{ctx}");
                    assert!(
                        server.server_nonce.is_none() && !server.confirmed.client_nonce,
                        "{ctx}"
                    );
                }
                _ => {
                    assert_eq!(server.server_nonce, client.server_nonce, "{ctx}");
                    assert!(server.confirmed.client_nonce, "{ctx}");
                }
            }
            // Once the client has seen Pkg#2, both sides hold the same new
            // client nonce.
            if cut >= 2 {
                assert_eq!(client.client_nonce, server.client_nonce, "{ctx}");
            }
            assert!(t.client_done.is_none(), "{ctx}");
            assert!(
                t.client_failed.is_none() && t.server_failed.is_none(),
                "{ctx}"
            );
            // The server is done once it has answered Pkg#3, delivered or not.
            assert_eq!(t.server_done.is_some(), cut == 3, "{ctx}");
        }
    }
}

/// An opaque command read from its XML text, as a server would send it.
fn opaque(cmd_xml: &str) -> Command {
    let xml = format!(
        "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID>\
         <MsgID>1</MsgID><Target><LocURI>a</LocURI></Target><Source><LocURI>b</LocURI></Source></SyncHdr>\
         <SyncBody>{cmd_xml}</SyncBody></SyncML>"
    );
    let m = decode_xml(xml.as_bytes()).unwrap();
    let Command::Opaque(o) = &m.body.commands[0] else {
        unreachable!()
    };
    Command::Opaque(OpaqueCmd::new(o.element().clone()).unwrap())
}

fn exec(id: u32) -> Command {
    opaque(&format!(
        "<Exec><CmdID>{id}</CmdID><Item><Target><LocURI>./FUMO/Update</LocURI></Target></Item></Exec>"
    ))
}

fn get(uri: &str) -> Command {
    Command::Get(ItemCmd {
        cmd_id: 0,
        no_resp: false,
        cred: None,
        meta: None,
        items: vec![Item {
            target: Some(Location::uri(uri)),
            ..Item::default()
        }],
    })
}

#[test]
fn unhandled_management_commands_get_406_and_the_session_completes() {
    for (enc, scheme) in ALL_COMBOS {
        let mut sp = server_params(scheme);
        sp.management = vec![exec(99), get("./DevDetail/FwV")];
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert!(t.client_done.is_some(), "{:?}", t.client_failed);
        assert_eq!(
            t.peer_statuses,
            vec![
                ("Exec".to_string(), client::NOT_HANDLED),
                ("Get".to_string(), client::NOT_HANDLED)
            ]
        );
        let pkg3 = decoded(&t.messages[2].1);
        let refs: Vec<(u32, u32, &str, u16)> = pkg3
            .body
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Status(s) => Some((s.msg_ref, s.cmd_ref, s.cmd.as_str(), s.code)),
                _ => None,
            })
            .collect();
        // CmdIDs renumbered per message: 212 status=1, Alert=2, Replace=3, Exec=4, Get=5.
        assert_eq!(
            refs,
            vec![
                (1, 0, "SyncHdr", 212),
                (1, 4, "Exec", 406),
                (1, 5, "Get", 406)
            ]
        );
    }
}

/// (MsgRef, CmdRef, Cmd, code) of every Status in a message.
fn status_refs(m: &SyncMl) -> Vec<(u32, u32, String, u16)> {
    m.body
        .commands
        .iter()
        .filter_map(|c| match c {
            Command::Status(s) => Some((s.msg_ref, s.cmd_ref, s.cmd.clone(), s.code)),
            _ => None,
        })
        .collect()
}

#[test]
fn opaque_commands_with_noresp_get_no_status_and_the_others_get_406() {
    let add = |id: u32, no_resp: &str| {
        opaque(&format!(
            "<Add><CmdID>{id}</CmdID>{no_resp}<Item><Target><LocURI>./Ext/x{id}</LocURI></Target>\
             <Data>v</Data></Item></Add>"
        ))
    };
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        let mut sp = server_params(scheme);
        sp.management = vec![
            add(1, "<NoResp/>"),
            add(2, ""),
            // NoResp on a container: no status for the Atomic.
            opaque(
                "<Atomic><CmdID>3</CmdID><NoResp/><Delete><CmdID>4</CmdID><Item><Target>\
                 <LocURI>./Ext/y</LocURI></Target></Item></Delete></Atomic>",
            ),
            add(5, "<NoResp></NoResp>"),
        ];
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert!(t.client_done.is_some(), "{ctx}: {:?}", t.client_failed);
        assert!(t.server_done.is_some(), "{ctx}: {:?}", t.server_failed);
        // Pkg#2 really carried the NoResp flags in this encoding.
        let pkg2 = decoded(&t.messages[1].1);
        let flags: Vec<(&str, bool)> = pkg2
            .body
            .commands
            .iter()
            .filter_map(|c| match c {
                Command::Opaque(o) => Some((o.name(), o.no_resp())),
                _ => None,
            })
            .collect();
        assert_eq!(
            flags,
            vec![
                ("Add", true),
                ("Add", false),
                ("Atomic", true),
                ("Add", true)
            ],
            "{ctx}"
        );
        // CmdIDs in Pkg#2: 212 status=1, Alert=2, Replace=3, then the Adds
        // and the Atomic 4..7. Only the Add without NoResp is answered.
        assert_eq!(
            status_refs(&decoded(&t.messages[2].1)),
            vec![
                (1, 0, "SyncHdr".to_string(), 212),
                (1, 5, "Add".to_string(), client::NOT_HANDLED)
            ],
            "{ctx}"
        );
        assert_eq!(
            t.peer_statuses,
            vec![("Add".to_string(), client::NOT_HANDLED)],
            "{ctx}"
        );
    }
}

#[test]
fn unsolicited_results_from_the_server_get_406() {
    // Results cannot carry NoResp and, since SyncML 1.1, gets a Status like
    // any command but Status; the client never sent a Get, so it is unused.
    for (enc, scheme) in ALL_COMBOS {
        let mut sp = server_params(scheme);
        sp.management = vec![Command::Results(Results {
            cmd_id: 0,
            msg_ref: Some(1),
            cmd_ref: 2,
            meta: None,
            target_refs: Vec::new(),
            source_refs: vec!["./DevInfo/Mod".into()],
            items: vec![Item {
                source: Some(Location::uri("./DevInfo/Mod")),
                data: Some("x".into()),
                ..Item::default()
            }],
        })];
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert!(
            t.client_done.is_some(),
            "{enc:?}/{scheme:?}: {:?}",
            t.client_failed
        );
        assert_eq!(
            status_refs(&decoded(&t.messages[2].1)),
            vec![
                (1, 0, "SyncHdr".to_string(), 212),
                (1, 4, "Results".to_string(), client::NOT_HANDLED)
            ],
            "{enc:?}/{scheme:?}"
        );
        assert_eq!(
            t.peer_statuses,
            vec![("Results".to_string(), client::NOT_HANDLED)]
        );
    }
}

#[test]
fn multi_message_pkg2_is_collected_with_alert_1222() {
    for (enc, scheme) in ALL_COMBOS {
        let mut sp = server_params(scheme);
        sp.management = vec![exec(1), get("./DevDetail/FwV"), get("./DevDetail/HwV")];
        sp.max_commands_per_message = Some(2);
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert!(
            t.client_done.is_some(),
            "{enc:?}/{scheme:?}: {:?}",
            t.client_failed
        );
        assert!(t.server_done.is_some(), "{:?}", t.server_failed);
        // Pkg#2 has 6 commands (3 statuses, 3 management) → 3 messages.
        let finals: Vec<bool> = t
            .messages
            .iter()
            .map(|(_, o)| decoded(o).body.final_)
            .collect();
        assert_eq!(
            finals,
            vec![true, false, false, false, false, true, true, true]
        );
        let alert = decoded(&t.messages[2].1);
        assert!(alert
            .body
            .commands
            .iter()
            .any(|c| matches!(c, Command::Alert(a) if a.code == 1222)));
        assert_eq!(t.peer_statuses.len(), 3);
        assert!(t.peer_statuses.iter().all(|(_, code)| *code == 406));
        let c = t.client_done.unwrap();
        assert_eq!(
            c.committed.client_nonce,
            t.server_done.unwrap().committed.client_nonce
        );
    }
}

#[test]
fn server_secret_rotation_at_pkg4_is_committed_on_both_sides() {
    for (enc, scheme) in ALL_COMBOS {
        let mut sp = server_params(scheme);
        sp.rotate_server_secret = Some(rotation());
        let t = drive(client_params(enc, scheme), sp, |_, _, _| true);
        assert_eq!(t.messages.len(), 6, "Pkg#1..4, status for Replace, closing");
        let c = t.client_done.expect("client done");
        let s = t.server_done.expect("server done");
        let new = Some(rotation().new_secret);
        assert_eq!(c.committed.server_secret, new);
        assert_eq!(s.committed.server_secret, new);
        assert!(c.committed.confirmed.server_secret && s.committed.confirmed.server_secret);
        assert_eq!(t.peer_statuses, vec![("Replace".to_string(), 200)]);
    }
}

#[test]
fn rotation_to_an_unconfigured_node_gets_406_and_keeps_the_secret() {
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        let mut cp = client_params(enc, scheme);
        cp.server_secret_uri = None;
        let mut sp = server_params(scheme);
        sp.rotate_server_secret = Some(rotation());
        let t = drive(cp, sp, |_, _, _| true);
        let c = t
            .client_done
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.client_failed));
        let s = t
            .server_done
            .unwrap_or_else(|| panic!("{ctx}: {:?}", t.server_failed));
        assert_eq!(c.committed.server_secret, None, "{ctx}");
        assert!(!c.committed.confirmed.server_secret, "{ctx}");
        assert_eq!(s.committed.server_secret, None, "{ctx}");
        assert!(!s.committed.confirmed.server_secret, "{ctx}");
        // The nonces are still renewed and confirmed on both sides.
        assert_eq!(c.committed.server_nonce, s.committed.server_nonce, "{ctx}");
        assert!(c.committed.confirmed.server_nonce, "{ctx}");
        assert_eq!(
            t.peer_statuses,
            vec![("Replace".to_string(), client::NOT_HANDLED)],
            "{ctx}"
        );
    }
}

#[test]
fn garbage_and_foreign_sessions_fail_cleanly() {
    let (mut c, _) =
        ClientSession::start(client_params(Encoding::Xml, AuthScheme::Md5), [1; 16]).unwrap();
    assert!(matches!(
        c.on_response(b"\x03\x00", None, [2; 16]),
        Step::Failed(Failure {
            reason: FailureReason::Decode(_),
            ..
        })
    ));
    assert!(matches!(
        c.on_response(b"<SyncML/>", None, [2; 16]),
        Step::Failed(Failure {
            reason: FailureReason::Finished,
            ..
        })
    ));
    let mut s = ServerSession::new(server_params(AuthScheme::Md5));
    let (_, pkg1) = ClientSession::start(
        ClientParams {
            session_id: 7,
            ..client_params(Encoding::Xml, AuthScheme::Md5)
        },
        [1; 16],
    )
    .unwrap();
    assert!(matches!(
        s.on_request(&pkg1.body, None, [3; 16]),
        ServerStep::Failed {
            out: None,
            failure: Failure {
                reason: FailureReason::Protocol(_),
                ..
            }
        }
    ));
}

#[test]
fn debug_output_never_shows_nonces_or_secrets() {
    let t = drive(
        client_params(Encoding::Xml, AuthScheme::Hmac),
        server_params(AuthScheme::Hmac),
        |_, _, _| true,
    );
    let c = t.client_done.unwrap();
    let nonce = c.committed.client_nonce.clone().unwrap();
    let text = format!(
        "{c:?} {:?} {:?} {:?}",
        t.messages,
        t.client_commits,
        client_params(Encoding::Xml, AuthScheme::Hmac)
    );
    assert!(!text.contains(&format!("{:?}", nonce.as_bytes())));
    assert!(!text.contains("client-secret") && !text.contains("server-secret"));
    assert!(!text.contains("mac="));
}

/// Alters a server message and signs it again as the server would
/// (default server nonce, i.e. a Pkg#2).
fn resign_pkg2(m: &mut Outgoing, enc: Encoding, scheme: AuthScheme, f: impl FnOnce(&mut SyncMl)) {
    let mut msg = decode(&m.body).unwrap().0;
    f(&mut msg);
    msg.hdr.cred = (scheme == AuthScheme::Md5)
        .then(|| cred::md5_cred(SERVER_ID.as_bytes(), b"server-secret", b"0x00000000"));
    m.body = encode(&msg, enc).unwrap();
    m.hmac_header = (scheme == AuthScheme::Hmac)
        .then(|| hmac::header_value(SERVER_ID, b"server-secret", b"0x00000000", &m.body));
}

#[test]
fn pkg2_without_a_usable_chal_fails_and_commits_nothing() {
    for (enc, scheme) in ALL_COMBOS {
        for empty in [false, true] {
            let t = drive(
                client_params(enc, scheme),
                server_params(scheme),
                |i, _, m| {
                    if i == 1 {
                        resign_pkg2(m, enc, scheme, |msg| {
                            if let Command::Status(s) = &mut msg.body.commands[0] {
                                if empty {
                                    s.chal.as_mut().unwrap().meta.next_nonce = Some(Vec::new());
                                } else {
                                    s.chal = None;
                                }
                            }
                        });
                    }
                    true
                },
            );
            let f = t.client_failed.expect("client fails");
            assert_eq!(
                f.reason,
                FailureReason::MissingChal("Pkg#2"),
                "{enc:?}/{scheme:?}"
            );
            assert!(f.committed.is_empty());
        }
    }
}

#[test]
fn a_server_status_other_than_success_or_challenge_stops_the_client() {
    for (enc, scheme) in ALL_COMBOS {
        let ctx = format!("{enc:?}/{scheme:?}");
        let t = drive(
            client_params(enc, scheme),
            server_params(scheme),
            |i, _, m| {
                if i == 1 {
                    resign_pkg2(m, enc, scheme, |msg| {
                        if let Command::Status(s) = &mut msg.body.commands[0] {
                            s.code = 500;
                        }
                    });
                }
                true
            },
        );
        // The re-signed Pkg#2 passed the credential check: the client
        // stopped on the status, not on the signature.
        assert_eq!(t.messages.len(), 2, "{ctx}");
        let f = t
            .client_failed
            .unwrap_or_else(|| panic!("{ctx}: client fails"));
        assert_eq!(f.reason, FailureReason::Rejected(500), "{ctx}");
        assert!(f.committed.is_empty(), "{ctx}");
        assert!(t.client_commits.is_empty(), "{ctx}");
    }
}

#[test]
fn a_chal_in_pkg4_becomes_the_client_nonce_committed_with_done() {
    let t = drive(
        client_params(Encoding::Xml, AuthScheme::Md5),
        server_params(AuthScheme::Md5),
        |i, _, m| {
            if i == 3 {
                let mut msg = decode(&m.body).unwrap().0;
                if let Command::Status(s) = &mut msg.body.commands[0] {
                    s.chal = Some(cred::chal(cred::AUTH_MD5, b"later"));
                }
                // Still signed by the server (Cred does not cover the body).
                m.body = encode(&msg, Encoding::Xml).unwrap();
            }
            true
        },
    );
    let done = t.client_done.expect("done");
    assert_eq!(
        done.commit.client_nonce,
        Some(Nonce::new(b"later".to_vec()))
    );
    assert!(done.commit.confirmed.client_nonce && done.commit.confirmed.server_nonce);
    assert_eq!(done.committed, fold(&t.client_commits));
}
