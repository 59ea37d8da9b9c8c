import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { UseToken } from '@app/token';
import { firstValueFrom } from 'rxjs';

/** Injection token of the Kling API's base URL, e.g. `https://api.klingai.com`. */
export const KLING_API_BASE_URL = Symbol('KLING_API_BASE_URL');

/**
 * A client of a Kling-like video API. `@UseToken('kling')` is all it takes: every request its
 * methods make carries the `kling` provider's JWT, refreshed before it expires and renewed once on a 401.
 */
@Injectable()
@UseToken('kling')
export class KlingApiClient {
  constructor(
    private readonly http: HttpService,
    @Inject(KLING_API_BASE_URL) private readonly baseUrl: string,
  ) {}

  /** Submits a text-to-video task; resolves to the API's JSON answer. */
  async createVideoTask(prompt: string): Promise<unknown> {
    const { data } = await firstValueFrom(
      this.http.post<unknown>(`${this.baseUrl}/v1/videos/text2video`, { model_name: 'kling-v1', prompt }),
    );
    return data;
  }
}
