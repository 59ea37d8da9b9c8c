import { HttpModule, HttpService } from '@nestjs/axios';
import { Inject, Injectable, Module } from '@nestjs/common';
import axios from 'axios';
import { firstValueFrom } from 'rxjs';
import { UseToken } from '@app/token';
import { API_ORIGIN } from './http-clients.js';

/** A @UseToken('kling') client of whatever HttpService its module gives it. */
abstract class FeatureClient {
  constructor(
    readonly http: HttpService,
    protected readonly origin: string,
  ) {}

  async call(): Promise<number> {
    return (await firstValueFrom(this.http.get(`${this.origin}/v1/whoami`))).status;
  }
}

@Injectable()
@UseToken('kling')
export class FeatureAClient extends FeatureClient {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }
}

@Injectable()
@UseToken('kling')
export class FeatureBClient extends FeatureClient {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }
}

@Injectable()
@UseToken('kling')
export class FeatureCClient extends FeatureClient {
  constructor(http: HttpService) {
    super(http, '');
  }

  /** A relative URL: the origin comes from the module's `baseURL`. */
  override async call(): Promise<number> {
    return (await firstValueFrom(this.http.get('v1/whoami'))).status;
  }
}

@Injectable()
@UseToken('kling')
export class FeatureDClient extends FeatureClient {
  constructor(http: HttpService, @Inject(API_ORIGIN) origin: string) {
    super(http, origin);
  }
}

/** Plain `HttpModule`: axios' default instance. */
@Module({ imports: [HttpModule], providers: [FeatureAClient], exports: [FeatureAClient] })
export class FeatureAModule {}

/** Plain `HttpModule` again, in another feature module. */
@Module({ imports: [HttpModule], providers: [FeatureBClient], exports: [FeatureBClient] })
export class FeatureBModule {}

/** `HttpModule.register()`: an axios instance of its own. */
export function featureCModule(baseURL: string) {
  return {
    module: class FeatureCModule {},
    imports: [HttpModule.register({ baseURL })],
    providers: [FeatureCClient],
    exports: [FeatureCClient],
  };
}

/** A second HttpService over axios' default instance: the same instance behind two services. */
@Module({
  providers: [{ provide: HttpService, useFactory: () => new HttpService(axios) }, FeatureDClient],
  exports: [FeatureDClient],
})
export class FeatureDModule {}
