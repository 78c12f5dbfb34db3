import { describeKindSync } from './kind-sync-suite';

describeKindSync('file');
