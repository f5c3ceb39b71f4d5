package io.polysync.platform.client;

import io.grpc.Context;
import io.polysync.platform.v1.LogEvent;
import io.polysync.platform.v1.StreamPipelineRunLogsResponse;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Supplier;

/**
 * The log events of a run (StreamPipelineRunLogs), one {@link LogEvent} at a time; Iterable for
 * one pass, so for-each works. Close it when leaving early: that cancels the call. Not
 * reconnected: a broken log stream throws.
 */
public final class LogStream implements Iterator<LogEvent>, Iterable<LogEvent>, AutoCloseable {
  private final Context.CancellableContext context = Context.current().withCancellation();
  private final Iterator<StreamPipelineRunLogsResponse> responses;
  private Iterator<LogEvent> batch = Collections.emptyIterator();

  LogStream(Supplier<Iterator<StreamPipelineRunLogsResponse>> open) {
    Iterator<StreamPipelineRunLogsResponse> opened;
    try {
      opened = context.wrap(open::get).call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    this.responses = opened;
  }

  /** This stream itself: it can be iterated once (for-each). */
  @Override
  public Iterator<LogEvent> iterator() {
    return this;
  }

  @Override
  public boolean hasNext() {
    try {
      while (!batch.hasNext() && responses.hasNext()) {
        batch = responses.next().getEventsList().iterator();
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    return batch.hasNext();
  }

  @Override
  public LogEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the log stream has ended");
    }
    return batch.next();
  }

  /** Cancels the call. */
  @Override
  public void close() {
    context.cancel(null);
  }
}
