import { SetMetadata } from '@nestjs/common';
import { USE_TOKEN_METADATA } from '../core/token.constants.js';
import { InvalidTokenOptionsError } from '../core/token.errors.js';

/**
 * Says which provider's token the outgoing HTTP requests of a class or method carry. On a method it
 * overrides the class; `@UseToken(false)` turns the token off for a method of a decorated class.
 * A per-request `{ token }` option overrides both.
 *
 * @publicApi
 * @example
 * @Injectable()
 * @UseToken('kling')
 * export class KlingClient {
 *   constructor(private readonly http: HttpService) {}
 *   createTask(body: unknown) {
 *     return firstValueFrom(this.http.post('https://api.klingai.com/v1/videos/text2video', body));
 *   }
 * }
 */
export const UseToken = (provider: string | false): ClassDecorator & MethodDecorator => {
  if (provider !== false && (typeof provider !== 'string' || provider.length === 0)) {
    throw new InvalidTokenOptionsError(
      '@UseToken(): "provider" must be a non-empty string or false',
      undefined,
      'provider',
    );
  }
  return SetMetadata(USE_TOKEN_METADATA, provider);
};
