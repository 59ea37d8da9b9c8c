import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TokenHealthIndicator } from './token.health-indicator.js';

/**
 * Provides {@link TokenHealthIndicator}; import it beside `TerminusModule` in the module of your
 * health controller. `TokenModule` must be imported somewhere in the application (it is global).
 *
 * @publicApi
 */
@Module({
  imports: [TerminusModule],
  providers: [TokenHealthIndicator],
  exports: [TokenHealthIndicator],
})
export class TokenHealthModule {}
