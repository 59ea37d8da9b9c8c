import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import type { InternalAxiosRequestConfig } from 'axios';
import { firstValueFrom } from 'rxjs';
import { TokenModule, TokenService } from '@app/token';
import { AXIOS_VERSIONS } from './support/http-axios-versions.js';
import { countingJwt, customProvider } from './support/http-clients.js';
import { startRedirectLab, type RedirectLab } from './support/http-redirect-lab.js';
import { LogCapture } from './support/log-capture.js';

/** What an application's own request interceptor does to the config. */
type Rewrite = (config: InternalAxiosRequestConfig, lab: RedirectLab) => void;

const REWRITES: [string, Rewrite, 'allowed' | 'foreign'][] = [
  ['rewrites baseURL to a foreign origin', (config, lab) => void (config.baseURL = lab.foreign), 'foreign'],
  [
    'rewrites url to an absolute foreign URL',
    (config, lab) => void (config.url = `${lab.foreign}/v1/whoami`),
    'foreign',
  ],
  [
    'rewrites baseURL to a subdomain of the allowed origin',
    (config, lab) => void (config.baseURL = lab.subdomain),
    'foreign',
  ],
  [
    'rewrites a foreign baseURL to the allowed one',
    (config, lab) => void (config.baseURL = lab.allowed),
    'allowed',
  ],
];

describe.each(AXIOS_VERSIONS)(
  'application request interceptors and the token, axios $label',
  (axiosVersion) => {
    let lab: RedirectLab;
    let app: TestingModule | undefined;
    let logs: LogCapture;

    beforeAll(async () => {
      lab = await startRedirectLab();
    });
    afterAll(() => lab?.close());
    beforeEach(() => {
      lab.seen.length = 0;
      logs = new LogCapture().install();
    });
    afterEach(async () => {
      await app?.close();
      app = undefined;
      logs.restore();
    });

    /**
     * An application whose HttpService gets a request interceptor from a provider factory (so before
     * TokenModule's own, which axios then runs first) or after start-up (run before TokenModule's).
     */
    async function start(rewrite: Rewrite, when: 'in a provider factory' | 'after start-up') {
      const register = (http: HttpService) =>
        http.axiosRef.interceptors.request.use((config) => {
          rewrite(config, lab);
          return config;
        });
      app = await Test.createTestingModule({
        imports: [
          TokenModule.forRoot({
            providers: { kling: customProvider(countingJwt('kling-ak'), { baseUrls: [lab.allowed] }) },
            refresh: { enabled: false },
          }),
        ],
        providers: [
          {
            provide: HttpService,
            useFactory: () => new HttpService(axiosVersion.create({ httpAgent: lab.agent })),
          },
          {
            provide: 'AXIOS_REWRITER',
            inject: [HttpService],
            useFactory: (http: HttpService) => (when === 'in a provider factory' ? register(http) : -1),
          },
        ],
      }).compile();
      await app.init();
      const http = app.get(HttpService);
      if (when === 'after start-up') register(http);
      const header = (await app.get(TokenService).getToken('kling')).authorizationHeader;
      return { http, header };
    }

    describe.each(['in a provider factory', 'after start-up'] as const)('registered %s', (when) => {
      it.each(REWRITES)(
        'an interceptor that %s: the token goes where the request goes',
        async (_, rewrite, lands) => {
          const { http, header } = await start(rewrite, when);
          const from = lands === 'allowed' ? lab.foreign : lab.allowed;
          await expect(
            firstValueFrom(http.get('/v1/whoami', { baseURL: from, token: 'kling' })),
          ).resolves.toMatchObject({
            status: 200,
          });
          expect(lab.seen).toHaveLength(1);
          const [hop] = lab.seen;
          if (lands === 'allowed') {
            expect(hop.origin).toBe(lab.allowed);
            expect(hop.authorization).toEqual([header]);
          } else {
            expect(hop.origin).not.toBe(lab.allowed);
            expect(hop.authorization).toEqual([]);
          }
        },
      );
    });
  },
);
