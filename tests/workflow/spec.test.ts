import { describe, expect, it } from "vitest";
import { DEFAULT_WORKFLOW, defaultWorkflow, parseWorkflowSpec, parseWorkflowSpecJson, shellPlaceholderProblem, shellScriptIndex, WorkflowSpecError } from "../../workflow/spec";
import { resolveWidth } from "../../workflow/width";

const step = (name: string, extra: Record<string, unknown> = {}) => ({ name, jobDefinition: "process", ...extra });

describe("parseWorkflowSpec", () => {
  it("normalises dependencies and defaults the width to 1", () => {
    const spec = parseWorkflowSpec({ steps: [step("a"), step("b", { dependsOn: ["a"] }), step("c", { dependsOn: [{ step: "b" }] })] });
    expect(spec.steps.map((s) => [s.name, s.dependsOn, s.width])).toEqual([
      ["a", [], { fixed: 1 }],
      ["b", [{ step: "a" }], { fixed: 1 }],
      ["c", [{ step: "b" }], { fixed: 1 }],
    ]);
  });

  it("accepts N_TO_N between steps of equal fixed width and of the same derived width", () => {
    const derived = { perChunkBytes: 100, max: 50 };
    expect(() =>
      parseWorkflowSpec({
        steps: [
          step("a", { width: { fixed: 5 } }),
          step("b", { width: { fixed: 5 }, dependsOn: [{ step: "a", type: "N_TO_N" }] }),
          step("c", { width: derived }),
          step("d", { width: derived, dependsOn: [{ step: "c", type: "N_TO_N" }, "b"] }),
        ],
      }),
    ).not.toThrow();
  });

  // Given a spec breaking one rule, the error names the step (or the workflow) and the rule.
  it.each<[string, unknown, RegExp]>([
    ["not an object", "steps", /^workflow: the workflow must be an object/],
    ["no steps", { steps: [] }, /^workflow: `steps` needs at least one step/],
    ["unknown top-level field", { steps: [step("a")], stepz: [] }, /^workflow: unknown field `stepz`/],
    ["unknown step field", { steps: [step("a", { widht: 3 })] }, /^workflow step `a`: unknown field `widht`/],
    ["invalid step name", { steps: [step("bad name")] }, /^workflow step `bad name`: `name` must match/],
    ["step name too long", { steps: [step("x".repeat(33))] }, /`name` must match .*at most 32 characters/],
    ["missing name", { steps: [{ jobDefinition: "p" }] }, /^workflow step #1: `name` must be a string/],
    ["reserved chunk suffix", { steps: [step("a-p1")] }, /^workflow step `a-p1`: name cannot end in `-p<n>`/],
    ["reserved barrier suffix", { steps: [step("a-b1-2")] }, /^workflow step `a-b1-2`: name cannot end in/],
    ["duplicate step", { steps: [step("a"), step("A")] }, /^workflow step `A`: duplicate step name/],
    ["width below 1", { steps: [step("a", { width: { fixed: 0 } })] }, /^workflow step `a`: `width.fixed` must be at least 1/],
    ["width not an integer", { steps: [step("a", { width: { fixed: 1.5 } })] }, /^workflow step `a`: `width.fixed` must be an integer/],
    ["width over the limit", { steps: [step("a", { width: { fixed: 1_000_001 } })] }, /`width.fixed` must be at most 1000000/],
    ["width with both modes", { steps: [step("a", { width: { fixed: 2, perChunkBytes: 10 } })] }, /`width` needs exactly one of `fixed` or `perChunkBytes`/],
    ["width with neither mode", { steps: [step("a", { width: {} })] }, /`width` needs exactly one of/],
    ["min with a fixed width", { steps: [step("a", { width: { fixed: 2, min: 1 } })] }, /`width.min`\/`width.max` only apply with `perChunkBytes`/],
    ["min above max", { steps: [step("a", { width: { perChunkBytes: 10, min: 5, max: 2 } })] }, /^workflow step `a`: `width.min` \(5\) cannot exceed `width.max` \(2\)/],
    ["perChunkBytes below 1", { steps: [step("a", { width: { perChunkBytes: 0 } })] }, /`width.perChunkBytes` must be at least 1/],
    ["empty command", { steps: [step("a", { command: [] })] }, /^workflow step `a`: `command` cannot be empty/],
    ["bad dependsOn entry", { steps: [step("a", { dependsOn: [42] })] }, /^workflow step `a`: `dependsOn.0`: each `dependsOn` entry must be a step name/],
    ["bad dependency type", { steps: [step("a"), step("b", { dependsOn: [{ step: "a", type: "SEQUENTIAL" }] })] }, /^workflow step `b`: `dependsOn.0`/],
    [
      "unknown dependency",
      { steps: [step("prepare"), step("process", { dependsOn: ["prepare"] }), step("merge", { dependsOn: ["proces"] })] },
      /^workflow step `merge`: dependsOn `proces` is not a step \(steps: prepare, process, merge\)$/,
    ],
    ["dependency listed twice", { steps: [step("a"), step("b", { dependsOn: ["a", "a"] })] }, /^workflow step `b`: dependsOn `a` is listed twice/],
    ["self dependency", { steps: [step("a", { dependsOn: ["a"] })] }, /^workflow step `a`: dependency cycle a → a$/],
    [
      "cycle",
      { steps: [step("a"), step("b", { dependsOn: ["a", "d"] }), step("c", { dependsOn: ["b"] }), step("d", { dependsOn: ["c"] })] },
      /^workflow step `b`: dependency cycle b → d → c → b$/,
    ],
    [
      "N_TO_N between different fixed widths",
      { steps: [step("a", { width: { fixed: 3 } }), step("b", { width: { fixed: 4 }, dependsOn: [{ step: "a", type: "N_TO_N" }] })] },
      /^workflow step `b`: N_TO_N dependency on `a` needs both steps to have the same width, but `b` has width 4 and `a` has width 3/,
    ],
    [
      "N_TO_N between fixed and derived widths",
      { steps: [step("a", { width: { perChunkBytes: 10 } }), step("b", { width: { fixed: 4 }, dependsOn: [{ step: "a", type: "N_TO_N" }] })] },
      /N_TO_N dependency on `a` needs both steps to have the same width/,
    ],
    [
      "too many N_TO_N dependencies",
      {
        steps: [
          ...Array.from({ length: 20 }, (_, i) => step(`s${i}`, { width: { fixed: 2 } })),
          step("p"),
          step("join", { width: { fixed: 2 }, dependsOn: [...Array.from({ length: 20 }, (_, i) => ({ step: `s${i}`, type: "N_TO_N" })), "p"] }),
        ],
      },
      /^workflow step `join`: 20 N_TO_N dependencies exceed Batch's limit of 20/,
    ],
    ["reserved environment variable", { steps: [step("a", { environment: { PIPELINE_STEP: "x" } })] }, /^workflow step `a`: environment variable `PIPELINE_STEP` is reserved/],
    ["AWS_BATCH environment variable", { steps: [step("a", { environment: { AWS_BATCH_X: "x" } })] }, /environment variable `AWS_BATCH_X` is reserved/],
    ["invalid environment name", { steps: [step("a", { environment: { "1x": "x" } })] }, /^workflow step `a`: `environment.1x`: `environment` names must match/],
    ["reserved parameter", { steps: [step("a", { parameters: { key: "x" } })] }, /^workflow step `a`: parameter `key` is reserved/],
  ])("rejects %s", (_rule, input, message) => {
    const attempt = () => parseWorkflowSpec(input);
    expect(attempt).toThrow(WorkflowSpecError);
    expect(attempt).toThrow(message);
  });

  it("rejects an unknown job definition key when the keys are given", () => {
    const attempt = () => parseWorkflowSpec({ steps: [step("a", { jobDefinition: "proces" })] }, { jobDefinitionKeys: ["process", "barrier"] });
    expect(attempt).toThrow("workflow step `a`: jobDefinition `proces` is not a known job definition key (known: process, barrier)");
    expect(() => parseWorkflowSpec({ steps: [step("a", { jobDefinition: "proces" })] })).not.toThrow();
  });

  it("lists every problem and keeps them in `issues`", () => {
    try {
      parseWorkflowSpec({ steps: [step("a", { width: { fixed: 0 } }), step("b c")] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(WorkflowSpecError);
      expect((err as WorkflowSpecError).issues).toHaveLength(2);
      expect((err as Error).message).toMatch(/^2 problems in the workflow spec:\n- workflow step `a`.*\n- workflow step `b c`/);
    }
  });

  it("reports JSON syntax errors", () => {
    expect(() => parseWorkflowSpecJson("{steps")).toThrow(/^workflow: not valid JSON/);
  });
});

describe("resolveWidth", () => {
  it.each([
    [{ fixed: 7 }, 0, 7],
    [{ perChunkBytes: 100 }, 0, 1],
    [{ perChunkBytes: 100, min: 3 }, 0, 3],
    [{ perChunkBytes: 100 }, 1, 1],
    [{ perChunkBytes: 100 }, 100, 1],
    [{ perChunkBytes: 100 }, 101, 2],
    [{ perChunkBytes: 100, max: 5 }, 10_000, 5],
    [{ perChunkBytes: 1 }, 5_000_000, 1_000_000],
  ])("width %j for %i bytes is %i", (width, sizeBytes, expected) => {
    expect(resolveWidth({ width }, { sizeBytes })).toBe(expected);
  });
});

describe("defaultWorkflow", () => {
  it("is the original's shape: prepare, N × process, merge, each running the job definition's own command", () => {
    expect(DEFAULT_WORKFLOW.steps.map((s) => [s.name, s.width, s.dependsOn.map((d) => d.step)])).toEqual([
      ["prepare", { fixed: 1 }, []],
      ["process", { fixed: 3 }, ["prepare"]],
      ["merge", { fixed: 1 }, ["process"]],
    ]);
    // A step's command replaces the definition's: with none, `jobDefinitions.process.command` is what runs.
    expect(DEFAULT_WORKFLOW.steps.map((s) => s.command)).toEqual([undefined, undefined, undefined]);
    expect(defaultWorkflow(50, "hello").steps.every((s) => s.jobDefinition === "hello")).toBe(true);
  });
});

describe("shellPlaceholderProblem: no Ref:: placeholder inside a shell's -c script (issue 17)", () => {
  it.each<[string[], number | undefined]>([
    [["sh", "-c", "cat Ref::key"], 2],
    [["/bin/sh", "-c", "x"], 2],
    [["bash", "-ec", "x"], 2],
    [["bash", "-xc", "x", "bash", "Ref::key"], 2],
    [["dash", "-e", "-c", "x"], 3],
    [["bash", "-o", "pipefail", "-c", "x"], 4],
    [["bash", "-eo", "pipefail", "-c", "x"], 4],
    [["bash", "--norc", "-c", "x"], 3],
    [["/usr/bin/env", "bash", "-c", "x"], 3],
    [["env", "-i", "A=1", "zsh", "-c", "x"], 5],
    [["env", "-u", "HOME", "ksh", "-c", "x"], 5],
    [["busybox", "ash", "-c", "x"], 3],
    [["sh", "script.sh", "Ref::key"], undefined],
    [["sh", "-e", "script.sh"], undefined],
    [["sh", "-c"], undefined],
    [["python3", "-c", "x"], undefined],
    [["cat", "Ref::key"], undefined],
    [["/usr/bin/env", "node", "-c", "x"], undefined],
  ])("%j: the script is argument %s", (command, index) => {
    expect(shellScriptIndex(command)).toBe(index);
  });

  it("refuses any Ref:: in the script, naming the argument, the shell and the fix", () => {
    expect(shellPlaceholderProblem(["sh", "-c", "cat Ref::key"])).toBe(
      `argument 2 ("cat Ref::key") puts Ref::key inside the script of \`sh -c\`: Batch substitutes parameters as text, so an object key like data$(id).csv would run as shell code; ` +
        `pass it as its own argument after the script (sh -c 'cat "$1"' sh Ref::key) or read "$PIPELINE_INPUT_KEY" quoted`,
    );
    for (const [name, variable] of [["bucket", "PIPELINE_INPUT_BUCKET"], ["versionId", "PIPELINE_INPUT_VERSION_ID"], ["outputPrefix", "PIPELINE_OUTPUT_PREFIX"], ["step", "PIPELINE_STEP"]]) {
      expect(shellPlaceholderProblem(["bash", "-ec", `echo Ref::${name}`])).toContain(`read "$${variable}" quoted`);
    }
    // A parameter of the stack's own: as an argument after the script (no variable carries it).
    expect(shellPlaceholderProblem(["sh", "-c", "run --mode=Ref::mode"])).toMatch(/puts Ref::mode inside .*\(sh -c 'cat "\$1"' sh Ref::mode\)$/);
  });

  it("lets a placeholder be an argument of its own after the script, or of a program that is no shell", () => {
    expect(shellPlaceholderProblem(["sh", "-c", 'cat "$1" > "$PIPELINE_OUTPUT_DIR/x"', "sh", "Ref::key"])).toBeUndefined();
    expect(shellPlaceholderProblem(["cp", "Ref::key", "out/Ref::key"])).toBeUndefined();
    expect(shellPlaceholderProblem(["sh", "-c", 'wc -l "$PIPELINE_INPUT_KEY"'])).toBeUndefined();
  });

  it("fails a workflow step's command at parse, naming the step (the start job checks it again)", () => {
    expect(() => parseWorkflowSpec({ steps: [{ name: "split", jobDefinition: "process", command: ["sh", "-c", "split Ref::key"] }] })).toThrow(
      /^workflow step `split`: command argument 2 \("split Ref::key"\) puts Ref::key inside the script of `sh -c`/,
    );
  });
});
