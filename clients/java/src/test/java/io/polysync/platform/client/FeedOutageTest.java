package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.polysync.platform.v1.PlatformServiceGrpc;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The feed across an outage: a TCP relay on 127.0.0.1 in front of a real server resets every
 * connection (what a killed server does) and refuses connections for 18 s. The feed's reconnect
 * budget (here 24 reconnects of at most 1.2 s: about 21.5 s) must be spent on real connect
 * attempts, so that it finds the server back at 18 s, not on calls the channel fails at once while
 * it waits out its own connect backoff (1 s, ×1.6 per failed connect: after its attempt at about
 * 16 s the next comes about 26 s in, after the budget is spent).
 */
class FeedOutageTest {
  /** A TCP relay: {@link #kill()} resets every connection and stops listening; {@link #revive()} listens again. */
  private static final class Relay implements AutoCloseable {
    private final int backend;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile ServerSocket listener;
    final int port;

    Relay(int backend) throws IOException {
      this.backend = backend;
      this.port = listen(0);
    }

    private int listen(int at) throws IOException {
      ServerSocket socket = new ServerSocket();
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), at));
      listener = socket;
      Thread accept = new Thread(() -> {
        try {
          while (true) {
            Socket in = socket.accept();
            Socket out = new Socket(InetAddress.getLoopbackAddress(), backend);
            sockets.add(in);
            sockets.add(out);
            pump(in, out);
            pump(out, in);
          }
        } catch (IOException closed) {
          // the relay was killed or closed
        }
      }, "relay-accept");
      accept.setDaemon(true);
      accept.start();
      return socket.getLocalPort();
    }

    private static void pump(Socket from, Socket to) {
      Thread thread = new Thread(() -> {
        byte[] buffer = new byte[16384];
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
          for (int n; (n = in.read(buffer)) >= 0; ) {
            out.write(buffer, 0, n);
            out.flush();
          }
        } catch (IOException closed) {
          // either side went away
        }
      }, "relay-pump");
      thread.setDaemon(true);
      thread.start();
    }

    void kill() throws IOException {
      listener.close();
      for (Socket socket : sockets) {
        try {
          socket.setSoLinger(true, 0); // close with a TCP RST
          socket.close();
        } catch (IOException alreadyClosed) {
          // the other side closed it first
        }
      }
      sockets.clear();
    }

    void revive() throws IOException {
      listen(port);
    }

    @Override
    public void close() throws IOException {
      kill();
    }
  }

  @Test
  void theFeedFindsTheServerBackAfterALongOutage() throws Exception {
    AtomicInteger streams = new AtomicInteger();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new PlatformServiceGrpc.PlatformServiceImplBase() {
          @Override
          public void watchRunChanges(WatchRunChangesRequest request, StreamObserver<WatchRunChangesResponse> out) {
            // A heartbeat with a cursor, then quiet: the stream stays open.
            out.onNext(WatchRunChangesResponse.newBuilder().setHeartbeat(true)
                .setCursor("c" + streams.incrementAndGet()).build());
          }
        }).build().start();
    try (Relay relay = new Relay(server.getPort());
        PlatformClient client = PlatformClient.connect("127.0.0.1:" + relay.port)
            .policy(new ReconnectPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 0.2, 24)).build();
        ChangeFeed feed = client.followChanges("c0")) {
      Iterator<FeedEvent> events = feed.iterator();
      assertEquals("c1", events.next().cursor());
      relay.kill();
      Thread back = new Thread(() -> {
        try {
          Thread.sleep(18_000);
          relay.revive();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      back.start();
      assertEquals("c2", events.next().cursor()); // UNAVAILABLE here if the budget ran out first
      back.join();
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
