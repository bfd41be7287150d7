package org.dmnonce;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real dmnonced on a private socket and state directory and, when asked,
 * a real dmnonce-testserver on 127.0.0.1 with a device account provisioned
 * on both sides (the "typical device-side test" of /tmp/contracts.md).
 *
 * <p>Binaries come from {@code -Ddmnonce.bin.dir} (target/debug). When one
 * is missing or lacks the interface the tests need, the tests are skipped
 * with that reason (the suite lists skips); once present, any failure to
 * start is a test failure with the process's log attached.
 */
final class DaemonFixture implements AutoCloseable {
    static final String SERVER_ID = "dmnonce-test";
    static final String CLIENT_NAME = "jvm-device";
    // Test-only secrets, shared by the test server and the daemon account.
    private static final String SERVER_PASSWORD = "jvm-test-server-secret";
    private static final String CLIENT_PASSWORD = "jvm-test-client-secret";

    final Path dir;
    final Path socket;
    private Process daemon;
    private Process testserver;
    private String serverBase;

    private DaemonFixture(Path dir) {
        this.dir = dir;
        this.socket = dir.resolve("dmnonced.sock");
    }

    static Path bin(String name) {
        return Paths.get(System.getProperty("dmnonce.bin.dir", "target/debug")).resolve(name);
    }

    /** Skips the calling tests unless the binaries exist and have the needed interface. */
    static void assumeBinaries(boolean needServer) {
        assumeCapable("dmnonced", "--socket", "--help");
        assumeCapable("dmnoncectl", "account", "--help");
        if (needServer) {
            assumeCapable("dmnonce-testserver", "--listen", "--help");
        }
    }

    private static void assumeCapable(String name, String needle, String... args) {
        Path path = bin(name);
        assumeTrue(name + " not built at " + path, Files.isExecutable(path));
        String help;
        try {
            List<String> cmd = new ArrayList<>();
            cmd.add(path.toString());
            for (String a : args) {
                cmd.add(a);
            }
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            help = new String(readAll(p.getInputStream()), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            help = "";
        }
        assumeTrue(name + " lacks \"" + needle + "\" (not implemented yet?)", help.contains(needle));
    }

    /** Starts dmnonced (and the test server with an account on both sides when {@code withServer}). */
    static DaemonFixture start(boolean withServer) throws Exception {
        return start(withServer, null);
    }

    /** As {@link #start(boolean)}, with {@code configToml} as the daemon's {@code --config} file. */
    static DaemonFixture start(boolean withServer, String configToml) throws Exception {
        assumeBinaries(withServer);
        DaemonFixture f = new DaemonFixture(Files.createTempDirectory("dmnonce-jvm"));
        try {
            if (withServer) {
                f.startTestServer();
            }
            f.startDaemon(configToml);
            if (withServer) {
                f.provision();
            }
            return f;
        } catch (Exception | AssertionError e) {
            f.close();
            throw e;
        }
    }

    private void startTestServer() throws Exception {
        Path state = dir.resolve("server");
        testserver = new ProcessBuilder(bin("dmnonce-testserver").toString(), "--listen", "127.0.0.1:0", "--state",
                state.toString(), "--server-id", SERVER_ID)
                .redirectError(dir.resolve("testserver.log").toFile())
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(testserver.getInputStream(),
                StandardCharsets.UTF_8));
        String first = out.readLine();
        assertTrue("dmnonce-testserver did not start: " + first + "\n" + log("testserver.log"),
                first != null && first.startsWith("listening http://127.0.0.1:"));
        serverBase = first.substring("listening ".length()).trim();
        drain(testserver.getInputStream());
        String device = "{\"client_name\":\"" + CLIENT_NAME + "\",\"server_password\":\"" + SERVER_PASSWORD
                + "\",\"client_password\":\"" + CLIENT_PASSWORD + "\",\"auth_scheme\":\"md5\",\"encoding\":\"xml\"}";
        assertEquals(201, post("/admin/devices", device).status);
    }

    private void startDaemon(String configToml) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin("dmnonced").toString());
        if (configToml != null) {
            Path config = dir.resolve("dmnonced.toml");
            Files.write(config, configToml.getBytes(StandardCharsets.UTF_8));
            cmd.add("--config");
            cmd.add(config.toString());
        }
        cmd.add("--state-dir");
        cmd.add(dir.resolve("state").toString());
        cmd.add("--socket");
        cmd.add(socket.toString());
        daemon = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("dmnonced.log").toFile())
                .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (DmNonce probe = DmNonce.connect(socket.toString(), 2000)) {
                probe.status();
                return;
            } catch (DaemonUnavailableException | ClosedException e) {
                if (!daemon.isAlive()) {
                    throw new AssertionError("dmnonced exited with " + daemon.exitValue() + ":\n"
                            + log("dmnonced.log"));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("dmnonced not ready after 20 s:\n" + log("dmnonced.log"));
                }
                Thread.sleep(50);
            }
        }
    }

    private void provision() throws Exception {
        addAccount(SERVER_ID, serverBase + "/dm", "md5", "xml");
    }

    /** Provisions an account in the daemon with {@code dmnoncectl account add}. */
    void addAccount(String serverId, String url, String scheme, String encoding) throws Exception {
        String secrets = "{\"server_password\":\"" + SERVER_PASSWORD + "\",\"client_password\":\""
                + CLIENT_PASSWORD + "\"}";
        Result r = run(secrets.getBytes(StandardCharsets.UTF_8), bin("dmnoncectl").toString(), "--socket",
                socket.toString(), "account", "add", "--server-id", serverId, "--server-url", url,
                "--client-name", CLIENT_NAME, "--auth-scheme", scheme, "--encoding", encoding, "--policy", "allow",
                "--secrets-file", "-");
        assertEquals("dmnoncectl account add failed: " + r.text(), 0, r.status);
    }

    /** A Package #0 (or its WSP push PDU) from the test server, signed as {@code nonce} says. */
    byte[] notify(String nonce, boolean wsp) throws IOException {
        Result r = post("/admin/notify", "{\"client_name\":\"" + CLIENT_NAME + "\",\"nonce\":\"" + nonce
                + "\",\"wsp\":" + wsp + "}");
        assertEquals("POST /admin/notify: " + r.text(), 200, r.status);
        return r.body;
    }

    /** A Package #0 built offline by {@code dmnoncectl pkg0 build}. */
    static byte[] buildPackage0(String serverId, String password, String defaultNonce, int sessionId)
            throws Exception {
        Result r = run((password + "\n").getBytes(StandardCharsets.UTF_8), bin("dmnoncectl").toString(), "pkg0",
                "build", "--server-id", serverId, "--password-file", "-", "--default-nonce", defaultNonce,
                "--session-id", Integer.toString(sessionId));
        assertEquals("dmnoncectl pkg0 build: " + r.text(), 0, r.status);
        return r.body;
    }

    void killDaemon() throws InterruptedException {
        daemon.destroyForcibly();
        daemon.waitFor(10, TimeUnit.SECONDS);
    }

    String log(String name) {
        try {
            String text = new String(Files.readAllBytes(dir.resolve(name)), StandardCharsets.UTF_8);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(no " + name + ")";
        }
    }

    @Override
    public void close() throws Exception {
        for (Process p : new Process[] {daemon, testserver}) {
            if (p != null) {
                p.destroy(); // SIGTERM: graceful stop
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ---- helpers -----------------------------------------------------------

    static final class Result {
        final int status;
        final byte[] body;

        Result(int status, byte[] body) {
            this.status = status;
            this.body = body;
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private Result post(String path, String json) throws IOException {
        // Loopback only, never through a proxy from the environment.
        HttpURLConnection c = (HttpURLConnection) new URL(serverBase + path).openConnection(Proxy.NO_PROXY);
        c.setRequestMethod("POST");
        c.setDoOutput(true);
        c.setConnectTimeout(5000);
        c.setReadTimeout(15000);
        c.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = c.getOutputStream()) {
            out.write(json.getBytes(StandardCharsets.UTF_8));
        }
        int status = c.getResponseCode();
        InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
        byte[] body = in == null ? new byte[0] : readAll(in);
        c.disconnect();
        return new Result(status, body);
    }

    private static Result run(byte[] stdin, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.PIPE).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(stdin);
        }
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread t = new Thread(() -> {
            try {
                err.write(readAll(p.getErrorStream()));
            } catch (IOException e) {
                // reported through the exit status
            }
        });
        t.start();
        byte[] out = readAll(p.getInputStream());
        assertTrue(cmd[0] + " did not finish", p.waitFor(30, TimeUnit.SECONDS));
        t.join();
        int status = p.exitValue();
        return new Result(status, status == 0 ? out : err.toByteArray());
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) > 0;) {
            out.write(buf, 0, n);
        }
        return out.toByteArray();
    }

    private static void drain(InputStream in) {
        Thread t = new Thread(() -> {
            try {
                readAll(in);
            } catch (IOException e) {
                // process ended
            }
        }, "testserver-stdout");
        t.setDaemon(true);
        t.start();
    }
}
