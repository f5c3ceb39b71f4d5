package io.polysync.platform.client;

/**
 * A watch stream kept ending cleanly before the watched runs were terminal, until the reconnect
 * budget ({@link ReconnectPolicy#maxReconnects()}) was spent.
 */
public final class StreamEndedEarlyException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  StreamEndedEarlyException(String message) {
    super(message);
  }
}
