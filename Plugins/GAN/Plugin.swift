import LossKitPluginSDK

/// The `gan` objective as the host lists it: its version, the options a loss expression may set
/// (with their defaults and documentation, which `losskit plugins info gan` prints) and the
/// probes it reports; GAN.swift has the method.
private let plugins = makePluginList([
    describe(
        GAN.self, kind: LK_KIND_OBJECTIVE, name: "gan", version: "1.4.0",
        summary: "semi-supervised GAN with feature matching (Salimans et al. 2016), or DCGAN (Radford et al. 2016)",
        // dcgan mode scores with a head of its own on the features: the class logits go unread;
        // with `noise` or a joint batch the discriminator encodes the real images itself and
        // reads neither tap (a tap list cannot follow an option, so both are declared as taps
        // that may go without gradient)
        tapsRead: ["features", "logits"], tapsReadWithoutGradient: ["logits", "features"], defaultTap: "features",
        options: [
            .string("mode", \.mode, default: "semi", choices: ["semi", "dcgan"],
                    doc: "semi: K-class head as discriminator + feature matching; dcgan: binary head"),
            .int("latent", \.latent, default: 100, .within(1, 4096), doc: "dimension of z ~ N(0, I)"),
            .double("lr", \.learningRate, default: 0.0002, .above(0), doc: "generator's Adam learning rate"),
            .double("beta1", \.beta1, default: 0.5, .from(0, below: 1), doc: "generator's Adam β1"),
            .int("width", \.width, default: 32, .within(1, 1024), doc: "generator base width c (layers 4c, 2c)"),
            .string("part", \.part, default: "both", choices: ["both", "discriminator", "generator"],
                    doc: "return L_D + L_G (both), or only the discriminator's or generator's loss"),
            .int("minibatch_kernels", \.minibatchKernels, default: 0, .within(0, 1024),
                 doc: "minibatch discrimination: kernels B (0: off; the paper used 50 or 100)"),
            .int("minibatch_dims", \.minibatchDimensions, default: 5, .within(1, 256), doc: "minibatch discrimination: dimensions C per kernel"),
            .double("label_smoothing", \.labelSmoothing, default: 1, .above(0, upTo: 1),
                    doc: "one-sided label smoothing: the real data's target α (1: off; the paper used 0.9)"),
            .int("vbn", \.vbnReference, default: 0, .within(0, 1024),
                 doc: "virtual batch norm in the generator with a reference batch of this many z, drawn once and checkpointed (0: batch norm)"),
            .int("show_every", \.showEvery, default: 50, .within(0, 1_000_000), doc: "hand the report generated samples every N training calls; 0: never"),
            .int("show_count", \.showCount, default: 32, .within(1, 8192), doc: "how many generated samples (of the batch) the report gets"),
            .string("generator", \.generatorLoss, default: "matching", choices: ["matching", "adversarial"],
                    doc: "semi mode: G's objective, feature matching or fooling the discriminator (−log D(G(z)), minibatch term included)"),
            .double("noise", \.noise, default: 0, .atLeast(0),
                    doc: "σ of Gaussian noise on the discriminator's inputs, real and generated, in the data's normalised units (0: off; the paper's MNIST discriminator used 0.3 on pixels in [0, 1]); the real images are encoded a second time"),
            .string("discriminator_batch", \.discriminatorBatch, default: "separate", choices: ["separate", "joint"],
                    doc: "encode the real rows (semi mode: the unlabelled ones) and the generated ones as separate batches, each batch-norm normalising each with its own statistics, or as one joint batch sharing them (the real rows are then encoded again, twice a step)"),
            .double("history_g", \.historyG, default: 0, .atLeast(0), doc: "historical averaging λ of the generator (0: off)"),
            .double("history_d", \.historyD, default: 0, .atLeast(0),
                    doc: "historical averaging λ of the plugin's own discriminator parameters (dcgan head, minibatch tensor)"),
        ],
        probes: [
            Probe("real_accuracy", \.realAccuracy, doc: "fraction of real images the discriminator calls real"),
            Probe("fake_accuracy", \.fakeAccuracy, doc: "fraction of generated images it calls fake"),
            Probe("feature_distance", \.featureDistance, doc: "feature-matching distance (semi)"),
            Probe("minibatch_real", \.realCloseness, doc: "minibatch discrimination: mean o of the real rows (0: all unlike, 1: collapsed)"),
            Probe("minibatch_fake", \.fakeCloseness, doc: "minibatch discrimination: mean o of the generated rows"),
        ],
        create: { Runtime.create(GAN.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
