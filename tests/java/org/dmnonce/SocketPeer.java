package org.dmnonce;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A scripted peer on a real Unix socket, for the client-side failures a real
 * dmnonced does not produce on demand (silence, garbage, hanging up
 * mid-request). The daemon's own behaviour is tested against the real
 * daemon in {@link DaemonTest}.
 */
final class SocketPeer implements AutoCloseable {
    /** What the peer does with one connection. */
    interface Script {
        void run(BufferedReader in, OutputStream out) throws IOException, InterruptedException;
    }

    private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");

    final Path dir;
    final Path socket;
    private final ServerSocketChannel server;
    private final Thread thread;

    SocketPeer(Script script) throws IOException {
        dir = Files.createTempDirectory("dmnonce-peer");
        socket = dir.resolve("peer.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        thread = new Thread(() -> {
            try {
                while (true) {
                    SocketChannel conn = server.accept();
                    Thread t = new Thread(() -> {
                        try (SocketChannel c = conn) {
                            BufferedReader in = new BufferedReader(new InputStreamReader(
                                    Channels.newInputStream(c), StandardCharsets.UTF_8));
                            script.run(in, Channels.newOutputStream(c));
                        } catch (IOException | InterruptedException e) {
                            // the client went away: fine for a scripted peer
                        }
                    }, "socket-peer-conn");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException e) {
                // closed
            }
        }, "socket-peer");
        thread.setDaemon(true);
        thread.start();
    }

    String path() {
        return socket.toString();
    }

    /** The id of a request line. */
    static long id(String line) {
        Matcher m = ID.matcher(line);
        if (!m.find()) {
            throw new IllegalArgumentException("no id in " + line);
        }
        return Long.parseLong(m.group(1));
    }

    static void send(OutputStream out, String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    static void ok(OutputStream out, String request, String resultJson) throws IOException {
        send(out, "{\"v\":1,\"id\":" + id(request) + ",\"ok\":true,\"result\":" + resultJson + "}");
    }

    static void error(OutputStream out, String request, String code, String message) throws IOException {
        send(out, "{\"v\":1,\"id\":" + id(request) + ",\"ok\":false,\"error\":{\"code\":\"" + code
                + "\",\"message\":\"" + message + "\"}}");
    }

    /** Answers {@code hello} like a version-1 daemon. */
    static void hello(BufferedReader in, OutputStream out) throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("client hung up before hello");
        }
        ok(out, line, "{\"protocol\":1,\"daemon_version\":\"peer\"}");
    }

    @Override
    public void close() throws IOException {
        server.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }
}
