package dev.difydr.source.redis;

import dev.difydr.DrException;
import dev.difydr.Failure;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.apache.commons.io.input.BoundedInputStream;

/**
 * The server's own RDB snapshot, read as a replica would: {@code AUTH}, {@code REPLCONF capa eof capa psync2},
 * {@code PSYNC ? -1} (or {@code SYNC} when PSYNC is refused), then the payload, either {@code $<length>} or a
 * diskless {@code $EOF:<mark>} stream. The connection is closed once the payload has been read, so the server
 * never streams commands to it.
 */
public final class RedisReplicationSource {
    private final RedisEndpoint endpoint;

    public RedisReplicationSource(RedisEndpoint endpoint) {
        this.endpoint = endpoint;
    }

    /** The server will not do the handshake (renamed or ACL-denied SYNC/PSYNC, managed Redis); the message says why. */
    public static final class Refused extends RuntimeException {
        Refused(String reason) {
            super(reason);
        }
    }

    /** An open transfer: {@link #payload()} yields exactly the RDB bytes, then end of stream. */
    public static final class Transfer implements AutoCloseable {
        private final Socket socket;
        private final InputStream payload;
        private final String how;

        Transfer(Socket socket, InputStream payload, String how) {
            this.socket = socket;
            this.payload = payload;
            this.how = how;
        }

        public InputStream payload() {
            return payload;
        }

        /** How the server sent it, for the log: "diskless" or "&lt;n&gt; bytes from disk". */
        public String how() {
            return how;
        }

        /** True when the payload was read to its announced end. */
        public boolean complete() {
            if (payload instanceof EofMarkedInputStream marked) {
                return marked.complete();
            }
            try {
                return payload.read() < 0 && ((BoundedInputStream) payload).getRemaining() == 0;
            } catch (IOException e) {
                return false;
            }
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing is all that is left to do
            }
        }
    }

    /**
     * Starts a full synchronisation. Throws {@link Refused} when the server refuses the replication commands,
     * a {@link DrException} ({@link Failure#SOURCE}) for any other failure.
     */
    public Transfer open() {
        Socket socket;
        try {
            socket = endpoint.openSocket();
        } catch (IOException e) {
            throw endpoint.failure("cannot connect", e);
        }
        try {
            InputStream in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
            OutputStream out = socket.getOutputStream();
            var config = endpoint.config();
            if (!config.password().isEmpty()) {
                boolean withUser = config.user() != null && !config.user().isBlank();
                send(out, withUser ? new String[] {"AUTH", config.user(), config.password().reveal()}
                        : new String[] {"AUTH", config.password().reveal()});
                String reply = readLine(in);
                if (!reply.startsWith("+")) {
                    throw endpoint.failure("authentication failed", new IOException(reply));
                }
            }
            send(out, "REPLCONF", "capa", "eof", "capa", "psync2");
            String reply = readLine(in);
            if (reply.startsWith("-")) {
                throw new Refused("REPLCONF: " + reply.substring(1));
            }
            // Redis 7+: a snapshot only, so the server keeps no replication buffer for us; older servers say no, harmlessly.
            send(out, "REPLCONF", "rdb-only", "1");
            readLine(in);
            send(out, "PSYNC", "?", "-1");
            reply = readReply(in);
            if (reply.startsWith("-")) {
                String psyncRefusal = reply.substring(1);
                send(out, "SYNC");
                reply = readReply(in);
                if (reply.startsWith("-")) {
                    throw new Refused("PSYNC: " + psyncRefusal + "; SYNC: " + reply.substring(1));
                }
            }
            if (reply.startsWith("+FULLRESYNC")) {
                reply = readReply(in);
            } else if (reply.startsWith("+")) {
                throw endpoint.failure("unexpected answer to PSYNC", new IOException(reply));
            }
            if (reply.startsWith("-")) {
                throw endpoint.failure("the server could not produce a snapshot", new IOException(reply.substring(1)));
            }
            if (reply.startsWith("$EOF:")) {
                byte[] mark = reply.substring(5).getBytes(StandardCharsets.US_ASCII);
                return new Transfer(socket, new EofMarkedInputStream(in, mark), "diskless");
            }
            if (reply.startsWith("$")) {
                long length = Long.parseLong(reply.substring(1));
                return new Transfer(socket, BoundedInputStream.builder().setInputStream(in).setMaxCount(length)
                        .setPropagateClose(false).get(), length + " bytes from disk");
            }
            throw endpoint.failure("unexpected answer in the replication handshake", new IOException(reply));
        } catch (RuntimeException e) {
            close(socket);
            throw e;
        } catch (IOException e) {
            close(socket);
            throw endpoint.failure("the replication handshake failed", e);
        }
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    /** The next reply line, skipping the bare newlines the server sends as keep-alives while it prepares the RDB. */
    private static String readReply(InputStream in) throws IOException {
        String line;
        do {
            line = readLine(in);
        } while (line.isEmpty());
        return line;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("the server closed the connection during the replication handshake");
            }
            if (b == '\n') {
                break;
            }
            if (line.size() > 4096) {
                throw new IOException("an over-long line in the replication handshake");
            }
            line.write(b);
        }
        String s = line.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    private static void send(OutputStream out, String... args) throws IOException {
        ByteArrayOutputStream cmd = new ByteArrayOutputStream();
        cmd.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
        for (String arg : args) {
            byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
            cmd.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
            cmd.writeBytes(bytes);
            cmd.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        out.write(cmd.toByteArray());
        out.flush();
    }
}
