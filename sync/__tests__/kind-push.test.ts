import { describeKindSync } from './kind-sync-suite';

describeKindSync('push');
