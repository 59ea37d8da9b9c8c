import { Logger, type LoggerService } from '@nestjs/common';

/** Collects every line Nest's Logger prints, so tests can assert what reaches the logs. */
export class LogCapture implements LoggerService {
  readonly lines: string[] = [];

  log(message: unknown, ...rest: unknown[]) {
    this.push('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.push('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.push('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.push('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.push('verbose', message, rest);
  }

  private push(level: string, message: unknown, rest: unknown[]) {
    const parts = [message, ...rest].map((part) =>
      part instanceof Error
        ? `${part.message}\n${part.stack}`
        : typeof part === 'string'
          ? part
          : JSON.stringify(part),
    );
    this.lines.push(`${level} ${parts.join(' ')}`);
  }

  /** Routes Nest's static Logger here until `restore()`. */
  install(): this {
    Logger.overrideLogger(this);
    return this;
  }

  restore(): void {
    Logger.overrideLogger(['log', 'error', 'warn']);
  }
}
