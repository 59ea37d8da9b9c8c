import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { UseToken } from '@app/token';
import { firstValueFrom } from 'rxjs';

/** Injection token of the partner API's base URL. */
export const PARTNER_API_BASE_URL = Symbol('PARTNER_API_BASE_URL');

/** A client of an API behind an OAuth2 server: its requests carry the `partner` provider's token. */
@Injectable()
@UseToken('partner')
export class PartnerApiClient {
  constructor(
    private readonly http: HttpService,
    @Inject(PARTNER_API_BASE_URL) private readonly baseUrl: string,
  ) {}

  /** Reads the account balance; resolves to the API's JSON answer. */
  async balance(): Promise<unknown> {
    const { data } = await firstValueFrom(this.http.get<unknown>(`${this.baseUrl}/v1/balance`));
    return data;
  }
}
