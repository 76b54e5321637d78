//! HTTPS and proxies: a private CA through `--ca-cert`, a self-signed server certificate given
//! there (trusted only for its names and dates), the bundled web roots refusing that CA,
//! `--insecure` with its warning, and `HTTPS_PROXY`/`NO_PROXY` from the environment. The TLS
//! server is test-only: a rustls front (certificate generated at test time by rcgen) that
//! forwards the plaintext to the embedded mock.

use crate::util::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A CA, and a server certificate it signed for 127.0.0.1 and localhost.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
    }
}

/// A self-signed certificate for `names`, marked CA:TRUE as `openssl req -x509` makes it, that
/// the server presents as its own (`ca_pem` is that same certificate); `edit` shapes it.
fn self_signed(names: &[&str], edit: impl FnOnce(&mut CertificateParams)) -> Pki {
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    edit(&mut params);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pki {
        ca_pem: cert.pem(),
        chain: vec![cert.der().clone()],
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

/// Serves TLS on a free port, forwarding each connection's plaintext to `backend`.
fn tls_front(pki: &Pki, backend: SocketAddr) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())
        .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let conn = Arc::new(Mutex::new(ServerConnection::new(config.clone()).unwrap()));
            let Ok(server) = TcpStream::connect(backend) else { continue };
            let (c2, s2, conn2) = (client.try_clone().unwrap(), server.try_clone().unwrap(), conn.clone());
            std::thread::spawn(move || client_to_server(&client, &server, &conn));
            std::thread::spawn(move || server_to_client(&s2, &c2, &conn2));
        }
    });
    addr
}

fn client_to_server(client: &TcpStream, mut server: &TcpStream, conn: &Mutex<ServerConnection>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match (&*client).read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut plain = Vec::new();
        {
            let mut c = conn.lock().unwrap();
            let mut input = &buf[..n];
            while !input.is_empty() {
                if c.read_tls(&mut input).is_err() || c.process_new_packets().is_err() {
                    let _ = c.write_tls(&mut &*client);
                    return;
                }
            }
            loop {
                match c.reader().read(&mut buf) {
                    Ok(0) => break,
                    Ok(k) => plain.extend_from_slice(&buf[..k]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => return,
                }
            }
            while c.wants_write() {
                if c.write_tls(&mut &*client).is_err() {
                    return;
                }
            }
        }
        if server.write_all(&plain).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

fn server_to_client(mut server: &TcpStream, client: &TcpStream, conn: &Mutex<ServerConnection>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = server.read(&mut buf).unwrap_or(0);
        let mut c = conn.lock().unwrap();
        if n == 0 {
            c.send_close_notify();
        } else {
            let _ = c.writer().write_all(&buf[..n]);
        }
        while c.wants_write() {
            if c.write_tls(&mut &*client).is_err() {
                return;
            }
        }
        if n == 0 {
            let _ = client.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// A CONNECT proxy that counts the tunnels it opened.
fn connect_proxy() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    std::thread::spawn(move || {
        for mut client in listener.incoming().flatten() {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let Some(target) = head.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()) else {
                continue;
            };
            let Ok(server) = TcpStream::connect(target) else { continue };
            count.fetch_add(1, Ordering::SeqCst);
            let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
                let _ = s2.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let (mut s, mut c) = (server, client);
                let _ = std::io::copy(&mut s, &mut c);
                let _ = c.shutdown(Shutdown::Write);
            });
        }
    });
    (addr, tunnels)
}

fn run_https(name: &str, extra: &[&str], env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    let pki = pki();
    run_https_with(name, &pki, &pki.ca_pem, extra, env)
}

/// Three requests to a front serving `served`, with `trusted` as the file that "CA" in `extra`
/// stands for.
fn run_https_with(
    name: &str,
    served: &Pki,
    trusted: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (Output, serde_json::Value) {
    let mock = fast_mock(4, &[]);
    let front = tls_front(served, mock.addr());
    let dir = Dir::new(&format!("tls-{name}"));
    let ca = dir.create("ca.pem", trusted);
    let extra: Vec<&str> = extra.iter().map(|a| if *a == "CA" { ca.to_str().unwrap() } else { a }).collect();
    let cmd =
        Llmload::new("run --url").arg(format!("https://127.0.0.1:{}", front.port())).args("-n 3 --quiet");
    env.iter().fold(cmd.arg_list(&extra), |cmd, (k, v)| cmd.env(k, v)).json(&dir)
}

#[test]
fn a_private_ca_is_trusted_with_ca_cert() {
    let (out, j) = run_https("ca", &["--ca-cert", "CA"], &[]);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    assert_eq!(j["config"]["tls"], "ca-cert");
    // Our TLS step wraps the stamped transport: the stamps are the ciphertext's arrival.
    expect_kernel_clock(&out, &j);
    assert!(!out.stderr.contains("--insecure"), "{}", out.context());
}

/// On Linux the kernel stamped every read under TLS too.
fn expect_kernel_clock(out: &Output, j: &serde_json::Value) {
    if cfg!(target_os = "linux") {
        assert_eq!(j["client"]["clock"], "kernel", "{}", out.context());
        assert!(j["client"]["read_lag_ms"]["count"].as_u64().is_some_and(|n| n > 0), "{}", out.context());
    }
}

/// Three requests failed on TLS, with a message that contains `why`.
fn expect_tls_refusal(out: &Output, j: &serde_json::Value, why: &str) {
    out.expect_code(1);
    assert_eq!(j["requests"]["ok"], 0, "{}", out.context());
    assert_eq!(j["errors"]["tls"], 3, "{}", out.context());
    let msg = j["error_messages"]["tls"].as_str().unwrap();
    assert!(msg.contains(why), "{msg}");
}

#[test]
fn a_self_signed_server_certificate_is_trusted_with_ca_cert() {
    let cert = self_signed(&["localhost", "127.0.0.1"], |_| {});
    let (out, j) = run_https_with("self-signed", &cert, &cert.ca_pem, &["--ca-cert", "CA"], &[]);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    assert_eq!(j["config"]["tls"], "ca-cert");
}

#[test]
fn a_different_self_signed_certificate_is_refused() {
    let served = self_signed(&["localhost", "127.0.0.1"], |_| {});
    let other = self_signed(&["localhost", "127.0.0.1"], |_| {});
    let (out, j) = run_https_with(
        "self-signed-other",
        &served,
        &other.ca_pem,
        &["--ca-cert", "CA", "--no-preflight"],
        &[],
    );
    expect_tls_refusal(&out, &j, "CaUsedAsEndEntity");
}

#[test]
fn a_self_signed_certificate_is_refused_for_a_host_it_does_not_name() {
    // The URL names 127.0.0.1, which this certificate does not list.
    let cert = self_signed(&["localhost"], |_| {});
    let (out, j) =
        run_https_with("self-signed-name", &cert, &cert.ca_pem, &["--ca-cert", "CA", "--no-preflight"], &[]);
    expect_tls_refusal(&out, &j, "not valid for name");
}

#[test]
fn an_expired_self_signed_certificate_is_refused() {
    let cert = self_signed(&["localhost", "127.0.0.1"], |p| {
        p.not_before = date_time_ymd(2000, 1, 1);
        p.not_after = date_time_ymd(2001, 1, 1);
    });
    let (out, j) = run_https_with(
        "self-signed-expired",
        &cert,
        &cert.ca_pem,
        &["--ca-cert", "CA", "--no-preflight"],
        &[],
    );
    expect_tls_refusal(&out, &j, "expired");
}

#[test]
fn the_bundled_roots_refuse_an_unknown_ca() {
    let (out, j) = run_https("webpki", &["--no-preflight"], &[]);
    out.expect_code(1);
    assert_eq!(j["errors"]["tls"], 3, "{}", out.context());
    let msg = j["error_messages"]["tls"].as_str().unwrap();
    assert!(msg.contains("UnknownIssuer"), "{msg}");
}

#[test]
fn https_to_a_plain_http_port_says_to_use_http() {
    let mock = fast_mock(4, &[]);
    let u = format!("https://{}", mock.addr());
    let hint = "TLS: received corrupt message of type InvalidContentType (is this server plain http://? use an http:// URL)";
    let (out, j, recs) =
        Llmload::new("run --url").arg(&u).args("-n 2 --quiet --no-preflight").logged(&Dir::new("tls-plain"));
    out.expect_code(1);
    assert_eq!(j["errors"]["tls"], 2, "{}", out.context());
    assert_eq!(j["error_messages"]["tls"], hint, "{}", out.context());
    assert!(recs.iter().all(|r| r["error"] == hint), "{}", out.context());
    // With the preflight, the run stops at the first handshake.
    let out = llmload(&["run", "--url", &u, "-c", "4", "-n", "20", "--quiet"]);
    out.expect_code(2);
    let want = format!("error: preflight request to {u}/v1/chat-messages failed: {hint}; no load was sent");
    assert!(out.stderr.contains(&want), "{}", out.context());
    assert_eq!(truth(&mock).requests, 0, "the mock never saw an API request{}", out.context());
}

#[test]
fn insecure_skips_verification_and_warns_every_time() {
    let (out, j) = run_https("insecure", &["--insecure"], &[]);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    // ureq's own TLS step wraps the stamped transport.
    expect_kernel_clock(&out, &j);
    assert!(
        out.stderr.contains("warning: --insecure: TLS certificates were not verified"),
        "{}",
        out.context()
    );
    assert!(out.stdout.contains("warning: --insecure"), "{}", out.context());
    assert!(j["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().starts_with("--insecure")));
}

#[test]
fn https_proxy_carries_the_traffic_unless_no_proxy_names_the_host() {
    let (proxy, tunnels) = connect_proxy();
    let proxy_url = format!("http://{proxy}");
    let (out, j) = run_https("proxy", &["--ca-cert", "CA"], &[("HTTPS_PROXY", &proxy_url)]);
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    expect_kernel_clock(&out, &j);
    assert!(tunnels.load(Ordering::SeqCst) >= 1, "the proxy was not used");
    let before = tunnels.load(Ordering::SeqCst);
    let (out, j) = run_https(
        "no-proxy",
        &["--ca-cert", "CA"],
        &[("HTTPS_PROXY", &proxy_url), ("NO_PROXY", "localhost,127.0.0.1")],
    );
    out.expect_code(0);
    assert_eq!(j["requests"]["ok"], 3, "{}", out.context());
    assert_eq!(tunnels.load(Ordering::SeqCst), before, "NO_PROXY was not honoured");
}

#[test]
fn ca_cert_problems_are_usage_errors() {
    let dir = tempdir("tls-bad");
    let not_pem = dir.join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let out = llmload(&["run", "--ca-cert", not_pem.to_str().unwrap()]);
    out.expect_code(2);
    assert!(out.stderr.contains("not.pem: holds no PEM certificate"), "{}", out.context());
    let out = llmload(&["run", "--ca-cert", "/nonexistent/ca.pem"]);
    out.expect_code(2);
    assert!(out.stderr.contains("--ca-cert /nonexistent/ca.pem: file not found"), "{}", out.context());
    let out = llmload(&["run", "--ca-cert", not_pem.to_str().unwrap(), "--insecure"]);
    out.expect_code(2);
    assert!(out.stderr.contains("give --ca-cert or --insecure, not both"), "{}", out.context());
}

/// A server behind TLS that closes after each response (the front passes the close on as a
/// `close_notify`): with our TLS step (`--ca-cert`) and ureq's (`--insecure`), each request
/// after the first finds its pooled connection closed and goes again on a fresh one; a
/// `close_notify` is no response.
#[test]
fn a_tls_server_that_closes_after_each_response_costs_reconnects_not_failures() {
    let pki = pki();
    let config = llmload::mock::MockConfig {
        ttft: std::time::Duration::from_millis(5),
        itl: std::time::Duration::from_millis(1),
        tokens: 4,
        close_after_response: true,
        ..llmload::mock::MockConfig::default()
    };
    let mock = mock_with(config);
    let front = tls_front(&pki, mock.addr());
    let dir = Dir::new("tls-reconnects");
    let ca = dir.create("ca.pem", &pki.ca_pem);
    let u = format!("https://127.0.0.1:{}", front.port());
    for (i, tls) in [vec!["--ca-cert", ca.to_str().unwrap()], vec!["--insecure"]].into_iter().enumerate() {
        let (out, j) = Llmload::new("run --url")
            .arg(&u)
            .args("-c 1 -n 4 --quiet --no-preflight")
            .arg_list(&tls)
            .json_at(&dir.path(&format!("out-{i}.json")));
        out.expect_code(0);
        assert_eq!(
            (&j["requests"]["ok"], &j["client"]["reconnects"]),
            (&4.into(), &3.into()),
            "{}",
            out.context()
        );
    }
    assert_eq!(truth(&mock).unanswered, 6);
}
