using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using Ludex;
using NUnit.Framework;

namespace Ludex.Tests
{
    /// <summary>
    /// What Unity reads from the package, checked without Unity: the manifest, the assembly
    /// definitions, link.xml, and that the core stays free of UnityEngine.
    /// </summary>
    [TestFixture]
    public class PackageLayoutTests
    {
        private static string PackageRoot()
        {
            return Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(PackageLayoutTests).Assembly.Location), ".."));
        }

        private static JsonObject ReadJson(string relative)
        {
            return Json.ParseObject(File.ReadAllText(Path.Combine(PackageRoot(), relative)));
        }

        [Test]
        public void ManifestNamesThePackageAndItsSample()
        {
            var manifest = ReadJson("package.json");
            Assert.AreEqual("dev.ludex.sdk", manifest.GetString("name"));
            StringAssert.IsMatch(@"^\d+\.\d+\.\d+$", manifest.GetString("version"));
            StringAssert.IsMatch(@"^20\d\d\.\d$", manifest.GetString("unity"));
            foreach (JsonObject sample in manifest.GetArray("samples"))
            {
                Assert.IsTrue(Directory.Exists(Path.Combine(PackageRoot(), sample.GetString("path"))), sample.GetString("path"));
            }
        }

        [Test]
        public void CoreAssemblyHasNoEngineDependency()
        {
            var core = ReadJson("Runtime/Core/Ludex.Core.asmdef");
            Assert.AreEqual("Ludex.Core", core.GetString("name"));
            Assert.IsTrue(core.GetBool("noEngineReferences"));
            Assert.AreEqual(0, core.GetArray("references").Count);
            foreach (string source in Directory.GetFiles(Path.Combine(PackageRoot(), "Runtime", "Core"), "*.cs"))
            {
                StringAssert.DoesNotContain("UnityEngine", File.ReadAllText(source), source);
            }
            var adapters = ReadJson("Runtime/Unity/Ludex.Unity.asmdef");
            CollectionAssert.AreEqual(new object[] { "Ludex.Core" }, adapters.GetArray("references"));
            var sample = ReadJson("Samples~/Quickstart/Ludex.Samples.Quickstart.asmdef");
            CollectionAssert.AreEquivalent(new object[] { "Ludex.Core", "Ludex.Unity" }, sample.GetArray("references"));
        }

        [Test]
        public void GeneratedModelsMatchTheOpenApiDocument()
        {
            string openApi = Path.Combine(PackageRoot(), "..", "..", "docs", "openapi.json");
            string committed = File.ReadAllText(Path.Combine(PackageRoot(), "Runtime", "Core", "Models.Generated.cs"));
            Assert.AreEqual(ModelGenerator.Generate(File.ReadAllText(openApi)), committed,
                "Runtime/Core/Models.Generated.cs is stale: run `make -C sdks/unity models`");
        }

        [Test]
        public void LinkXmlPreservesBothAssemblies()
        {
            var linker = XDocument.Load(Path.Combine(PackageRoot(), "Runtime", "link.xml")).Root;
            Assert.AreEqual("linker", linker.Name.LocalName);
            var preserved = linker.Elements("assembly").Where(a => (string)a.Attribute("preserve") == "all").Select(a => (string)a.Attribute("fullname")).ToList();
            CollectionAssert.IsSubsetOf(new[] { "Ludex.Core", "Ludex.Unity" }, preserved);
        }

        /// <summary>
        /// A package installed from a git URL is immutable: Unity ignores any asset without a .meta
        /// file there, so every file and folder Unity imports (all but `~` folders, dot-files and
        /// the local build output) needs one, each with its own GUID.
        /// </summary>
        [Test]
        public void EveryImportedAssetHasAMetaFileWithAUniqueGuid()
        {
            string root = PackageRoot();
            var guids = new Dictionary<string, string>();
            var pending = new Stack<string>();
            pending.Push(root);
            int checkedAssets = 0;
            while (pending.Count > 0)
            {
                string folder = pending.Pop();
                var entries = Directory.GetDirectories(folder).Concat(Directory.GetFiles(folder));
                foreach (string path in entries)
                {
                    string name = Path.GetFileName(path);
                    if (name.StartsWith(".") || name.EndsWith("~") || name.EndsWith(".meta")) continue;
                    if (folder == root && name == "build") continue;
                    if (Directory.Exists(path)) pending.Push(path);
                    string meta = path + ".meta";
                    Assert.IsTrue(File.Exists(meta), "no .meta for " + path.Substring(root.Length));
                    string guidLine = File.ReadAllLines(meta).Single(l => l.StartsWith("guid: "));
                    string guid = guidLine.Substring(6).Trim();
                    StringAssert.IsMatch("^[0-9a-f]{32}$", guid);
                    Assert.IsFalse(guids.ContainsKey(guid), "GUID of " + path + " repeats " + (guids.ContainsKey(guid) ? guids[guid] : ""));
                    guids[guid] = path;
                    checkedAssets++;
                }
            }
            Assert.Greater(checkedAssets, 15);
        }
    }
}
