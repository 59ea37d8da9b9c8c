import type { LoggerService } from '@nestjs/common';

/**
 * The app's Nest logger during the demo: warnings and errors become events on the demo's screen
 * (a line printed across the live view would tear it); routine log lines are dropped.
 */
export class DemoLogger implements LoggerService {
  sink: (text: string) => void = () => {};

  log(): void {}
  warn(message: unknown): void {
    this.sink(`warn: ${String(message)}`);
  }
  error(message: unknown): void {
    this.sink(`error: ${String(message)}`);
  }
}
