/**
 * A daemon's decision log in a process of its own, for tests that need a second writer or a killed
 * one: `node --import tsx audit-log-holder.ts LOG PRIVATE_KEY_PEM RECORDS EVERY` opens the log,
 * appends RECORDS decisions, prints `ready <pid> <head hash>` and waits to be killed.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { auditSigner } from '../../knowledge/audit/checkpoint.js';
import { FileDecisionLog } from '../../knowledge/audit/log-file.js';
import { decision } from './audit-records.js';

const [file, keyFile, records, every] = process.argv.slice(2) as [string, string, string, string];
const log = await FileDecisionLog.open(file, { signer: auditSigner(createPrivateKey(readFileSync(keyFile, 'utf8'))), checkpointEvery: Number(every) });
for (let i = 1; i <= Number(records); i++) await log.append(decision(`held-${i}`));
process.stdout.write(`ready ${process.pid} ${log.head().hash}\n`);
setInterval(() => undefined, 60_000);
