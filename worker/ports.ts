import { createServer } from 'node:net';
import { EcpError } from '../common';

/** Throws a clear EcpError if `port` on 127.0.0.1 is taken, naming who should give it up or how to avoid it. */
export async function assertPortFree(port: number, what: string, hint: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(new EcpError('connection', `port ${port} (${what}) is already in use on 127.0.0.1. ${hint}`));
      else reject(err);
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
