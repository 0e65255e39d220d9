import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';

/**
 * The gRPC interceptors of an ECP client's connection: Temporal's retry interceptor (the default a connection has
 * without explicit interceptors), then a guard that turns every call made after {@link close} into a CANCELLED one.
 *
 * Why: Temporal's client retries a call that failed as UNAVAILABLE (a server stopping, say) on a timer. If the
 * connection was closed meanwhile — a long poll still in flight when a process shuts down its console, then its
 * server — that retry throws "Channel has been shut down" from the timer: an uncaught exception, which ends a Node
 * process. Behind the guard the retry gets CANCELLED instead (not retried), and the call's own promise rejects.
 */
export class CloseGuard {
  #closed = false;

  readonly interceptors: Interceptor[] = [
    makeGrpcRetryInterceptor(defaultGrpcRetryOptions()),
    (options, nextCall) => new InterceptingCall(this.#closed ? cancelledCall() : nextCall(options)),
  ];

  /** From now on no call reaches the channel. */
  close(): void {
    this.#closed = true;
  }
}

type NextCall = ConstructorParameters<typeof InterceptingCall>[0];

/** A call that ends CANCELLED as soon as it starts, without touching any channel. */
function cancelledCall(): NextCall {
  return {
    start(_metadata, listener) {
      setImmediate(() =>
        listener?.onReceiveStatus?.({ code: status.CANCELLED, details: 'the ECP client is closed', metadata: new Metadata() }),
      );
    },
    cancelWithStatus() {},
    getPeer: () => '',
    sendMessageWithContext() {},
    sendMessage() {},
    startRead() {},
    halfClose() {},
    getAuthContext: () => null,
  };
}
