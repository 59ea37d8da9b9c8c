import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob, validateCronExpression } from 'cron';
import { TOKEN_DEFAULTS } from '../core/token.constants.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';
import type { TokenService } from './token.service.js';

/** Name of the refresh job in `SchedulerRegistry`. */
export const TOKEN_REFRESH_JOB_NAME = 'nest-token-manager:refresh';

/**
 * The `refresh` part of the token configuration.
 *
 * @publicApi
 */
export interface TokenRefreshSchedulerOptions {
  /** Default true. With false no job is registered; tokens are still refreshed when callers come. */
  enabled?: boolean;
  /** Cron expression with seconds. Default `TOKEN_DEFAULTS.refreshCron` (every 30 s). */
  cron?: string;
}

/**
 * The preemptive refresh job: a `CronJob` registered in `@nestjs/schedule`'s `SchedulerRegistry`
 * (the application's own when it imports `ScheduleModule.forRoot()`, a private one otherwise). Each
 * sweep refreshes, in the background, every token that would enter its margin before the next
 * sweep, so callers find a fresh token instead of waiting for one.
 *
 * A sweep waits for the refreshes it started; a tick that comes while it still runs is skipped.
 * A sweep that throws is logged and never reaches the application. The job's timer is unref'd:
 * it never keeps the process alive.
 *
 * @publicApi
 */
export class TokenRefreshScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('TokenRefreshScheduler');
  private readonly enabled: boolean;
  private readonly cron: string;
  private job: CronJob | undefined;
  private running: Promise<void> | undefined;
  private skipped = 0;

  constructor(
    private readonly tokens: TokenService,
    private readonly registry: SchedulerRegistry,
    options: TokenRefreshSchedulerOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.cron = options.cron ?? TOKEN_DEFAULTS.refreshCron;
    if (this.enabled && !validateCronExpression(this.cron).valid) {
      throw new InvalidTokenOptionsError(
        'token refresh: "refresh.cron" is not a valid cron expression',
        undefined,
        'refresh.cron',
      );
    }
  }

  /** Sweeps skipped because the previous one was still running. */
  get skippedSweeps(): number {
    return this.skipped;
  }

  /** The registered job, while it runs. */
  get cronJob(): CronJob | undefined {
    return this.job;
  }

  onApplicationBootstrap(): void {
    if (!this.enabled || this.job !== undefined) return;
    const job = CronJob.from({
      cronTime: this.cron,
      onTick: () => this.sweep(),
      start: false,
      unrefTimeout: true,
      name: TOKEN_REFRESH_JOB_NAME,
    });
    this.registry.addCronJob(TOKEN_REFRESH_JOB_NAME, job);
    this.job = job;
    job.start();
  }

  /**
   * Stops the job and waits for the sweep under way, and so for the refreshes it started, within
   * the service's shutdown budget (`shutdownTimeoutMs`, shared with the service's own hook): a
   * strategy that hangs is abandoned, not waited for. `ScheduleModule` may already have removed the
   * job from its registry; that is fine.
   */
  async beforeApplicationShutdown(): Promise<void> {
    const job = this.job;
    this.job = undefined;
    if (job !== undefined) {
      void job.stop();
      if (
        this.registry.doesExist('cron', TOKEN_REFRESH_JOB_NAME) &&
        this.registry.getCronJob(TOKEN_REFRESH_JOB_NAME) === job
      ) {
        this.registry.deleteCronJob(TOKEN_REFRESH_JOB_NAME);
      }
    }
    if (this.running !== undefined) await Promise.race([this.running, this.tokens.settleRefreshes()]);
  }

  /**
   * One sweep now; the job calls it on every tick. `horizonMs` defaults to the time until the next
   * tick (0 without a job). While a sweep runs, another call is skipped and gets the running one.
   */
  sweep(horizonMs: number = this.msUntilNextTick()): Promise<void> {
    if (this.running !== undefined) {
      this.skipped++;
      this.logger.debug('token refresh sweep skipped: the previous one is still running');
      return this.running;
    }
    const running = this.runSweep(horizonMs).finally(() => {
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private async runSweep(horizonMs: number): Promise<void> {
    try {
      // A failed refresh is logged by TokenService, with the retry it plans; nothing to add here.
      await Promise.allSettled(this.tokens.refreshDue(horizonMs));
    } catch (error) {
      this.logger.error(
        `token refresh sweep failed: ${(error as Error)?.message ?? String(error)}`,
        (error as Error)?.stack,
      );
    }
  }

  private msUntilNextTick(): number {
    if (this.job === undefined) return 0;
    return Math.max(0, this.job.nextDate().toMillis() - Date.now());
  }
}
