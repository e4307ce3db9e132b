import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  java: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: number[];
}

function osName(): string {
  try {
    if (existsSync('/etc/os-release')) {
      const pretty = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]+)"?/m)?.[1];
      if (pretty) return `${pretty} (${os.type()} ${os.release()}, ${os.arch()})`;
    }
  } catch {
    // fall through to the generic description
  }
  return `${os.type()} ${os.release()} (${os.arch()})`;
}

function javaVersion(): string {
  try {
    const out = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return out.split('\n')[0]?.trim() || 'unknown';
  } catch (error) {
    // java -version prints to stderr; execFileSync puts it on the error when the exit code is 0 too on some JDKs.
    const stderr = (error as { stderr?: string }).stderr;
    return stderr?.split('\n')[0]?.trim() || 'not found';
  }
}

function javaVersionFromStderr(): string {
  try {
    const result = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8', timeout: 10_000 });
    return result.split('\n')[0]?.trim() || javaVersion();
  } catch {
    return javaVersion();
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    os: osName(),
    java: javaVersionFromStderr(),
    loadAverage: os.loadavg(),
  };
}
