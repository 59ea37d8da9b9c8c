// `node --import ./fleet-ts-register.mjs replica.ts`: installs the TypeScript hooks (Node >= 20.6).
import { register } from 'node:module';

register('./fleet-ts-hooks.mjs', import.meta.url);
