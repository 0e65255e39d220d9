// The failure converter of every ECP data converter and workflow bundle (Temporal loads it by path, as a
// `failureConverter` export, in Node and inside the workflow sandbox alike; CommonJS so Node can require it without a
// TypeScript loader). `encodeCommonAttributes` moves each failure's message and stack trace into an encoded payload,
// so the payload codec encrypts them like parameters; history then shows only "Encoded failure".
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose: Node requires it without a loader
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
