// `nest-token-manager/health`: a Terminus health indicator (`@nestjs/terminus` is an optional peer).
export { TokenHealthModule } from './token-health.module.js';
export {
  TokenHealthIndicator,
  type TokenHealthCheckOptions,
  type TokenProviderHealth,
} from './token.health-indicator.js';
