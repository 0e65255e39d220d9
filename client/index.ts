export { EcpClient, type AttemptSummary, type DecideOptions, type ProposeResult } from './ecpClient';
export { buildListQuery, type AttemptFilter } from './listQuery';
export { createHumanKey, loadHumanKey, publicKeyHex, signDecision } from './keys';
export * from '../common';
